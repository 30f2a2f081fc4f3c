//! Geometry validation: empty geometries, non-finite coordinates, too few points,
//! self-intersecting rings, and rings of one polygon that cross or lie outside the exterior.
//!
//! (Unclosed rings are detected while decoding, in [`crate::source::wkb`], because geo-types
//! closes rings when it builds a polygon.) A feature that fails is still loaded and served,
//! flagged with the reason, and left out of area and length maths.

use geo::{Coord, Geometry, LineString, Polygon};

/// Checks a geometry; returns why it is invalid, or `None` when it is valid.
///
/// Cost: O(n log n + k) per ring of n points (a sweep over the ring's segments, k the pairs
/// whose x-ranges overlap), O(n) for everything else.
pub fn check(geometry: &Geometry<f64>) -> Option<String> {
    match geometry {
        Geometry::Point(p) => finite(&p.0),
        Geometry::MultiPoint(mp) => {
            if mp.0.is_empty() {
                return Some("empty geometry".into());
            }
            mp.0.iter().find_map(|p| finite(&p.0))
        }
        Geometry::Line(l) => finite(&l.start).or_else(|| finite(&l.end)),
        Geometry::LineString(ls) => line(ls),
        Geometry::MultiLineString(mls) => {
            if mls.0.is_empty() {
                return Some("empty geometry".into());
            }
            mls.0
                .iter()
                .enumerate()
                .find_map(|(i, ls)| line(ls).map(|r| format!("part {}: {r}", i + 1)))
        }
        Geometry::Polygon(p) => polygon(p),
        Geometry::MultiPolygon(mp) => {
            if mp.0.is_empty() {
                return Some("empty geometry".into());
            }
            mp.0.iter()
                .enumerate()
                .find_map(|(i, p)| polygon(p).map(|r| format!("part {}: {r}", i + 1)))
        }
        Geometry::GeometryCollection(gc) => {
            if gc.0.is_empty() {
                return Some("empty geometry".into());
            }
            gc.0.iter().find_map(check)
        }
        Geometry::Rect(_) | Geometry::Triangle(_) => None,
    }
}

fn finite(c: &Coord<f64>) -> Option<String> {
    if c.x.is_finite() && c.y.is_finite() {
        None
    } else {
        Some(format!("non-finite coordinate ({}, {})", c.x, c.y))
    }
}

fn line(ls: &LineString<f64>) -> Option<String> {
    if ls.0.is_empty() {
        return Some("empty geometry".into());
    }
    if let Some(r) = ls.0.iter().find_map(finite) {
        return Some(r);
    }
    let distinct = ls.0.windows(2).filter(|w| w[0] != w[1]).count() + 1;
    if distinct < 2 {
        return Some("line has fewer than 2 distinct points".into());
    }
    None
}

fn polygon(p: &Polygon<f64>) -> Option<String> {
    if p.exterior().0.is_empty() {
        return Some("empty geometry".into());
    }
    std::iter::once(("exterior ring".to_string(), p.exterior()))
        .chain(
            p.interiors()
                .iter()
                .enumerate()
                .map(|(i, r)| (format!("interior ring {}", i + 1), r)),
        )
        .find_map(|(name, ring_ls)| ring(ring_ls).map(|r| format!("{name} {r}")))
        .or_else(|| rings_together(p))
}

/// Checks how the rings of a polygon sit together: no two rings may cross or share a stretch of
/// boundary (touching at single points is allowed, as in the OGC model), and every interior ring
/// must lie inside the exterior one.
fn rings_together(p: &Polygon<f64>) -> Option<String> {
    if p.interiors().is_empty() {
        return None;
    }
    let rings: Vec<&LineString<f64>> = std::iter::once(p.exterior()).chain(p.interiors()).collect();
    let name = |r: usize| {
        if r == 0 {
            "the exterior ring".to_string()
        } else {
            format!("interior ring {r}")
        }
    };
    // Every segment, tagged with its ring, swept by x.
    let mut segments: Vec<(usize, Coord<f64>, Coord<f64>)> = Vec::new();
    for (r, ring) in rings.iter().enumerate() {
        for w in ring.0.windows(2) {
            if w[0] != w[1] {
                segments.push((r, w[0], w[1]));
            }
        }
    }
    segments.sort_by(|a, b| a.1.x.min(a.2.x).total_cmp(&b.1.x.min(b.2.x)));
    for (k, &(ri, a, b)) in segments.iter().enumerate() {
        let max_x = a.x.max(b.x);
        for &(rj, c, d) in &segments[k + 1..] {
            if c.x.min(d.x) > max_x {
                break;
            }
            if ri == rj || c.y.max(d.y) < a.y.min(b.y) || c.y.min(d.y) > a.y.max(b.y) {
                continue;
            }
            let (o1, o2, o3, o4) = (
                orient(a, b, c),
                orient(a, b, d),
                orient(c, d, a),
                orient(c, d, b),
            );
            let crossing = o1 * o2 < 0.0 && o3 * o4 < 0.0;
            let overlapping = o1 == 0.0 && o2 == 0.0 && collinear_overlap(a, b, c, d);
            if crossing || overlapping {
                let at = segments_touch(a, b, c, d).unwrap_or(a);
                let (first, second) = (ri.min(rj), ri.max(rj));
                return Some(format!(
                    "{} and {} {} near ({:.3}, {:.3})",
                    name(first),
                    name(second),
                    if crossing {
                        "cross"
                    } else {
                        "share a boundary stretch"
                    },
                    at.x,
                    at.y
                ));
            }
        }
    }
    // No crossings: each interior ring is wholly inside or wholly outside the exterior one;
    // test one of its vertices that is not on the exterior's boundary.
    for (i, hole) in p.interiors().iter().enumerate() {
        let outside = hole
            .0
            .iter()
            .find_map(|c| match ring_position(p.exterior(), *c) {
                Position::On => None,
                Position::Inside => Some(false),
                Position::Outside => Some(true),
            });
        if outside == Some(true) {
            return Some(format!(
                "interior ring {} lies outside the exterior ring",
                i + 1
            ));
        }
    }
    None
}

/// Whether collinear segments ab and cd share more than one point.
fn collinear_overlap(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    // Project on the longer axis of ab.
    let key = |p: Coord<f64>| {
        if (b.x - a.x).abs() >= (b.y - a.y).abs() {
            p.x
        } else {
            p.y
        }
    };
    let (lo1, hi1) = (key(a).min(key(b)), key(a).max(key(b)));
    let (lo2, hi2) = (key(c).min(key(d)), key(c).max(key(d)));
    lo1.max(lo2) < hi1.min(hi2)
}

enum Position {
    Inside,
    On,
    Outside,
}

/// Where a point lies with respect to a closed ring (crossing-number test).
fn ring_position(ring: &LineString<f64>, p: Coord<f64>) -> Position {
    let mut inside = false;
    for w in ring.0.windows(2) {
        let (a, b) = (w[0], w[1]);
        if orient(a, b, p) == 0.0 && on_segment(a, b, p) {
            return Position::On;
        }
        if (a.y > p.y) != (b.y > p.y) {
            let x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
            if p.x < x {
                inside = !inside;
            }
        }
    }
    if inside {
        Position::Inside
    } else {
        Position::Outside
    }
}

/// Checks one (closed) ring.
fn ring(ls: &LineString<f64>) -> Option<String> {
    if let Some(r) = ls.0.iter().find_map(finite) {
        return Some(r);
    }
    // Repeated consecutive points are allowed; drop them so segments have length.
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(ls.0.len());
    for c in &ls.0 {
        if pts.last() != Some(c) {
            pts.push(*c);
        }
    }
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.len() < 3 {
        return Some(format!(
            "has {} distinct points, a ring needs at least 3",
            pts.len()
        ));
    }
    self_intersection(&pts).map(|at| format!("self-intersects near ({:.3}, {:.3})", at.x, at.y))
}

/// Finds where a closed ring (given without its closing point) touches or crosses itself.
fn self_intersection(pts: &[Coord<f64>]) -> Option<Coord<f64>> {
    let n = pts.len();
    let seg = |i: usize| (pts[i], pts[(i + 1) % n]);
    let mut order: Vec<usize> = (0..n).collect();
    let min_x = |i: usize| pts[i].x.min(pts[(i + 1) % n].x);
    order.sort_by(|&a, &b| min_x(a).total_cmp(&min_x(b)));
    for (k, &i) in order.iter().enumerate() {
        let (a, b) = seg(i);
        let max_x = a.x.max(b.x);
        let (lo_y, hi_y) = (a.y.min(b.y), a.y.max(b.y));
        for &j in &order[k + 1..] {
            if min_x(j) > max_x {
                break;
            }
            let (c, d) = seg(j);
            if c.y.max(d.y) < lo_y || c.y.min(d.y) > hi_y {
                continue;
            }
            let adjacent = (i + 1) % n == j || (j + 1) % n == i;
            if adjacent {
                // Neighbours share one endpoint; they are a problem only when they fold back
                // over each other (a spike).
                let shared = if (i + 1) % n == j { b } else { a };
                let (p, q) = if (i + 1) % n == j { (a, d) } else { (b, c) };
                if orient(p, shared, q) == 0.0 && dot(sub(p, shared), sub(q, shared)) > 0.0 {
                    return Some(shared);
                }
                continue;
            }
            if let Some(at) = segments_touch(a, b, c, d) {
                return Some(at);
            }
        }
    }
    None
}

fn sub(a: Coord<f64>, b: Coord<f64>) -> Coord<f64> {
    Coord {
        x: a.x - b.x,
        y: a.y - b.y,
    }
}

fn dot(a: Coord<f64>, b: Coord<f64>) -> f64 {
    a.x * b.x + a.y * b.y
}

/// Sign of the turn a -> b -> c (positive: left).
fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    let v = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

fn on_segment(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> bool {
    p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

/// Whether segments ab and cd share any point; returns one such point.
fn segments_touch(
    a: Coord<f64>,
    b: Coord<f64>,
    c: Coord<f64>,
    d: Coord<f64>,
) -> Option<Coord<f64>> {
    let (o1, o2, o3, o4) = (
        orient(a, b, c),
        orient(a, b, d),
        orient(c, d, a),
        orient(c, d, b),
    );
    if o1 * o2 < 0.0 && o3 * o4 < 0.0 {
        let t = ((c.x - a.x) * (d.y - c.y) - (c.y - a.y) * (d.x - c.x))
            / ((b.x - a.x) * (d.y - c.y) - (b.y - a.y) * (d.x - c.x));
        return Some(Coord {
            x: a.x + t * (b.x - a.x),
            y: a.y + t * (b.y - a.y),
        });
    }
    if o1 == 0.0 && on_segment(a, b, c) {
        return Some(c);
    }
    if o2 == 0.0 && on_segment(a, b, d) {
        return Some(d);
    }
    if o3 == 0.0 && on_segment(c, d, a) {
        return Some(a);
    }
    if o4 == 0.0 && on_segment(c, d, b) {
        return Some(b);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{line_string, point, polygon, MultiPolygon};

    #[test]
    fn a_square_with_a_hole_is_valid() {
        let p = polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)],
            interiors: [[(x: 2., y: 2.), (x: 4., y: 2.), (x: 4., y: 4.), (x: 2., y: 4.)]],
        );
        assert_eq!(check(&Geometry::Polygon(p)), None);
    }

    #[test]
    fn a_bow_tie_self_intersects_at_its_crossing() {
        let p = polygon![(x: 0., y: 0.), (x: 2., y: 2.), (x: 2., y: 0.), (x: 0., y: 2.)];
        let r = check(&Geometry::Polygon(p)).unwrap();
        assert_eq!(r, "exterior ring self-intersects near (1.000, 1.000)");
    }

    #[test]
    fn a_ring_touching_itself_at_a_vertex_is_invalid() {
        // Two triangles meeting at (2, 2): a figure of eight traced as one ring.
        let p = polygon![
            (x: 0., y: 0.), (x: 4., y: 0.), (x: 2., y: 2.), (x: 4., y: 4.), (x: 0., y: 4.), (x: 2., y: 2.)
        ];
        assert!(check(&Geometry::Polygon(p))
            .unwrap()
            .contains("self-intersects"));
    }

    #[test]
    fn a_spike_is_invalid_but_repeated_points_are_not() {
        let spike = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 6., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.)];
        assert!(check(&Geometry::Polygon(spike)).is_some());
        let repeated = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.)];
        assert_eq!(check(&Geometry::Polygon(repeated)), None);
    }

    #[test]
    fn interior_rings_must_stay_inside_without_crossing() {
        let shell = [(0., 0.), (10., 0.), (10., 10.), (0., 10.), (0., 0.)];
        let with_hole = |hole: &[(f64, f64)]| {
            Geometry::Polygon(Polygon::new(
                LineString::from(shell.to_vec()),
                vec![LineString::from(hole.to_vec())],
            ))
        };
        // A hole poking out through the right edge crosses the exterior at x = 10.
        let r = check(&with_hole(&[
            (8., 4.),
            (12., 4.),
            (12., 6.),
            (8., 6.),
            (8., 4.),
        ]))
        .unwrap();
        assert!(
            r.starts_with("the exterior ring and interior ring 1 cross near (10.000"),
            "{r}"
        );
        // A hole wholly outside the shell.
        let r = check(&with_hole(&[
            (20., 4.),
            (22., 4.),
            (22., 6.),
            (20., 6.),
            (20., 4.),
        ]))
        .unwrap();
        assert_eq!(r, "interior ring 1 lies outside the exterior ring");
        // A hole sharing part of the right edge.
        let r = check(&with_hole(&[
            (8., 4.),
            (10., 4.),
            (10., 6.),
            (8., 6.),
            (8., 4.),
        ]))
        .unwrap();
        assert!(r.contains("share a boundary stretch"), "{r}");
        // A hole touching the shell at one point is valid (OGC), as is one well inside.
        assert_eq!(
            check(&with_hole(&[(8., 4.), (10., 5.), (8., 6.), (8., 4.)])),
            None
        );
        assert_eq!(
            check(&with_hole(&[(2., 2.), (4., 2.), (4., 4.), (2., 2.)])),
            None
        );
        // Two holes crossing each other.
        let two = Geometry::Polygon(Polygon::new(
            LineString::from(shell.to_vec()),
            vec![
                LineString::from(vec![(2., 2.), (5., 2.), (5., 5.), (2., 5.), (2., 2.)]),
                LineString::from(vec![(4., 4.), (7., 4.), (7., 7.), (4., 7.), (4., 4.)]),
            ],
        ));
        assert!(check(&two)
            .unwrap()
            .starts_with("interior ring 1 and interior ring 2 cross"));
    }

    #[test]
    fn degenerate_and_non_finite_inputs() {
        let flat = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 0., y: 0.)];
        assert!(check(&Geometry::Polygon(flat))
            .unwrap()
            .contains("at least 3"));
        let one_point = line_string![(x: 1., y: 1.), (x: 1., y: 1.)];
        assert!(check(&Geometry::LineString(one_point)).is_some());
        let nan = point!(x: f64::NAN, y: 0.);
        assert!(check(&Geometry::Point(nan)).unwrap().contains("non-finite"));
        assert_eq!(
            check(&Geometry::MultiPolygon(MultiPolygon(vec![]))).as_deref(),
            Some("empty geometry")
        );
    }

    #[test]
    fn sweep_agrees_with_brute_force_on_random_rings() {
        // Random star-shaped rings are simple; random vertex orders usually are not.
        let mut state = 42u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for case in 0..300 {
            let n = 4 + (next() * 20.0) as usize;
            let mut pts: Vec<Coord<f64>> = (0..n)
                .map(|_| Coord {
                    x: (next() * 100.0).round(),
                    y: (next() * 100.0).round(),
                })
                .collect();
            if case % 2 == 0 {
                // star-shaped around the centre
                pts.sort_by(|a, b| {
                    (a.y - 50.0)
                        .atan2(a.x - 50.0)
                        .total_cmp(&(b.y - 50.0).atan2(b.x - 50.0))
                });
            }
            pts.dedup();
            if pts.len() < 3 {
                continue;
            }
            let m = pts.len();
            let mut brute = false;
            for i in 0..m {
                for j in i + 1..m {
                    let (a, b) = (pts[i], pts[(i + 1) % m]);
                    let (c, d) = (pts[j], pts[(j + 1) % m]);
                    let adjacent = (i + 1) % m == j || (j + 1) % m == i;
                    if adjacent {
                        let shared = if (i + 1) % m == j { b } else { a };
                        let (p, q) = if (i + 1) % m == j { (a, d) } else { (b, c) };
                        if orient(p, shared, q) == 0.0 && dot(sub(p, shared), sub(q, shared)) > 0.0
                        {
                            brute = true;
                        }
                    } else if segments_touch(a, b, c, d).is_some() {
                        brute = true;
                    }
                }
            }
            assert_eq!(
                self_intersection(&pts).is_some(),
                brute,
                "case {case}: {pts:?}"
            );
        }
    }
}
