//! Coverage of a site by a layer: how much of the site lies inside at least one feature.
//!
//! Where features of one layer overlap (two parks sharing a strip, a corridor drawn over a
//! fluvial belt), the site's overlaps with each feature, added up, count the shared part once
//! per feature. The coverage counts it once: it is the measure of the site's intersection with
//! the union of the layer's features.
//! - polygonal site, polygonal features: the area of the union of the pieces
//!   `site ∩ feature` ([`BooleanOps::union`]);
//! - linear site, polygonal features: the length of the site inside the union of the features
//!   it crosses (the features are united, then the site's lines are clipped by the union);
//! - otherwise (points, or linear features such as roads): the [`overlay()`] totals.
//!
//! Algorithm: one [`overlay()`]. When it finds at most one feature there is nothing to unite and
//! its totals are the coverage, to the last bit. Otherwise the pieces (or the features) are
//! united with boolean operations, on coordinates moved next to the origin: at UTM magnitudes
//! (5,000,000 m) the fixed-precision grid of the boolean operations loses square millimetres.
//! Features with invalid geometries are left out, as in the overlay.
//!
//! Cost: one overlay, O(log n + k) index work for k candidates; when k' ≥ 2 features overlap
//! the site, a second overlay that keeps the pieces and k' - 1 boolean unions, each
//! O(v log v) in the v vertices united so far (for a linear site: the features' vertices).

use geo::{
    Area, BooleanOps, BoundingRect, Euclidean, Geometry, Length, LineString, MultiLineString,
    MultiPolygon, Translate,
};

use super::{overlay, AnalysisError, Measure, Overlay, OverlayOptions};
use crate::store::Layer;

/// How much of a site the features of a layer cover, shared parts counted once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coverage {
    /// What was measured (as in [`Overlay::measure`]).
    pub measure: Measure,
    /// Area of the site inside the union of the features, m² (0 unless an area).
    pub area_m2: f64,
    /// Length of the site inside the union of the features, m (0 unless a length).
    pub length_m: f64,
    /// How many features overlap the site.
    pub features: usize,
}

/// The coverage of `site` (working CRS) by `layer`.
///
/// ```
/// # use territorio::analysis::coverage;
/// # fn demo(parks: &territorio::store::Layer, site: &geo::Geometry<f64>) -> Result<(), territorio::analysis::AnalysisError> {
/// let c = coverage(parks, site)?;
/// println!("{:.0} m² of the site lie in a park ({} parks)", c.area_m2, c.features);
/// # Ok(()) }
/// ```
///
/// Errors: an invalid site, or a geometry collection.
pub fn coverage(layer: &Layer, site: &Geometry<f64>) -> Result<Coverage, AnalysisError> {
    let o = overlay(layer, site, &OverlayOptions::default())?;
    coverage_of_overlay(layer, site, &o)
}

/// [`coverage`] from an overlay of `site` with `layer` already made (with default options),
/// saving the first pass.
pub fn coverage_of_overlay(
    layer: &Layer,
    site: &Geometry<f64>,
    o: &Overlay,
) -> Result<Coverage, AnalysisError> {
    let mut c = Coverage {
        measure: o.measure,
        area_m2: o.total_area_m2,
        length_m: o.total_length_m,
        features: o.items.len(),
    };
    if o.items.len() < 2 {
        return Ok(c);
    }
    let Some(origin) = site.bounding_rect().map(|r| r.min()) else {
        return Ok(c);
    };
    let local = |g: &MultiPolygon<f64>| g.translate(-origin.x, -origin.y);
    match (o.measure, site) {
        (Measure::Area, _) => {
            let with_pieces = OverlayOptions {
                with_geometry: true,
                group_by: None,
            };
            let pieces = overlay(layer, site, &with_pieces)?;
            let united = pieces
                .items
                .iter()
                .filter_map(|item| match &item.geometry {
                    Some(Geometry::MultiPolygon(piece)) => Some(local(piece)),
                    _ => None,
                })
                .reduce(|all, piece| all.union(&piece));
            c.area_m2 = united.map_or(0.0, |u| u.unsigned_area());
        }
        (Measure::Length, _) => {
            let lines: MultiLineString<f64> = match site {
                Geometry::Line(l) => LineString::from(*l).into(),
                Geometry::LineString(l) => l.clone().into(),
                Geometry::MultiLineString(m) => m.clone(),
                // A polygonal site and linear features: their lengths, as the overlay adds them.
                _ => return Ok(c),
            };
            let united = o
                .items
                .iter()
                .filter_map(
                    |item| match &layer.features[item.feature as usize].geometry {
                        Geometry::Polygon(p) => Some(local(&p.clone().into())),
                        Geometry::MultiPolygon(m) => Some(local(m)),
                        _ => None,
                    },
                )
                .reduce(|all, feature| all.union(&feature));
            let lines = lines.translate(-origin.x, -origin.y);
            c.length_m = united.map_or(0.0, |u| Euclidean.length(&u.clip(&lines, false)));
        }
        _ => {}
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use geo::{line_string, point, Rect};

    use super::*;
    use crate::store::testing::{layer, Rng};

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Geometry<f64> {
        Geometry::Polygon(Rect::new((x0, y0), (x1, y1)).to_polygon())
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    /// Two squares overlapping on [100,200]x[0,200], far from the origin as UTM coordinates are.
    fn two_parks(dx: f64, dy: f64) -> Layer {
        layer(vec![
            (square(dx, dy, dx + 200., dy + 200.), "a"),
            (square(dx + 100., dy, dx + 300., dy + 200.), "b"),
        ])
    }

    #[test]
    fn overlapping_features_count_once_by_hand() {
        for (dx, dy) in [(0.0, 0.0), (580_000.0, 5_000_000.0)] {
            let parks = two_parks(dx, dy);
            // [50,250]x[50,150]: 150 x 100 in each square, its whole 200 x 100 in their union.
            let site = square(dx + 50., dy + 50., dx + 250., dy + 150.);
            let c = coverage(&parks, &site).unwrap();
            assert_eq!((c.measure, c.features), (Measure::Area, 2));
            assert!(close(c.area_m2, 20_000.0), "{c:?}");
            let sum = overlay(&parks, &site, &OverlayOptions::default()).unwrap();
            assert!(close(sum.total_area_m2, 30_000.0));
            // A line along y = 100 from x = -100 to 400: 200 m in each, 300 m in the union.
            let line = Geometry::LineString(
                line_string![(x: dx - 100., y: dy + 100.), (x: dx + 400., y: dy + 100.)],
            );
            let c = coverage(&parks, &line).unwrap();
            assert_eq!((c.measure, c.features), (Measure::Length, 2));
            assert!(close(c.length_m, 300.0), "{c:?}");
        }
    }

    #[test]
    fn one_feature_or_points_give_the_overlay_totals() {
        let parks = two_parks(0.0, 0.0);
        // [10,60]x[10,60] lies in the first square only: 2,500 m².
        let site = square(10., 10., 60., 60.);
        let c = coverage(&parks, &site).unwrap();
        assert_eq!(c.features, 1);
        assert_eq!(c.area_m2, 2_500.0);
        // A point in the shared strip meets both: counted, nothing measured.
        let here = Geometry::Point(point!(x: 150., y: 100.));
        let c = coverage(&parks, &here).unwrap();
        assert_eq!((c.measure, c.features), (Measure::Count, 2));
        assert_eq!((c.area_m2, c.length_m), (0.0, 0.0));
        // Nothing here.
        let c = coverage(&parks, &square(1000., 1000., 1010., 1010.)).unwrap();
        assert_eq!((c.features, c.area_m2), (0, 0.0));
    }

    #[test]
    fn agrees_with_a_grid_count_on_random_squares() {
        // Axis-aligned squares with corners on a 10 m grid: the area of the site in their union
        // is the number of 10 m cells of the site that some square covers, times 100.
        let mut rng = Rng(7);
        for round in 0..20 {
            let mut squares = Vec::new();
            for _ in 0..6 {
                let (x, y) = (
                    (rng.range(0.0, 40.0)).floor() * 10.0,
                    (rng.range(0.0, 40.0)).floor() * 10.0,
                );
                let s = (rng.range(5.0, 20.0)).floor() * 10.0;
                squares.push((x, y, x + s, y + s));
            }
            let parks = layer(
                squares
                    .iter()
                    .map(|&(a, b, c, d)| (square(a, b, c, d), "k"))
                    .collect(),
            );
            let site = (100.0, 100.0, 400.0, 300.0);
            let mut cells = 0;
            for i in 10..40 {
                for j in 10..30 {
                    let (cx, cy) = (i as f64 * 10.0 + 5.0, j as f64 * 10.0 + 5.0);
                    if squares
                        .iter()
                        .any(|&(a, b, c, d)| a < cx && cx < c && b < cy && cy < d)
                    {
                        cells += 1;
                    }
                }
            }
            let c = coverage(&parks, &square(site.0, site.1, site.2, site.3)).unwrap();
            assert!(
                (c.area_m2 - cells as f64 * 100.0).abs() < 1e-6,
                "round {round}: {} vs {}",
                c.area_m2,
                cells * 100
            );
        }
    }
}
