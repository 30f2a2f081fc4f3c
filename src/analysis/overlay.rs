//! Overlay of a site with a layer: for every feature the site overlaps, how much of it.
//!
//! What is measured depends on the two geometries' dimensions:
//! - polygonal site, polygonal features: the intersection **area** (m²), the share of the site it
//!   covers and the share of the feature;
//! - polygonal site, linear features (roads, rivers): the **length** of each feature inside the
//!   site (m) and the share of the feature;
//! - linear site (a cycle route, a road variant), polygonal features: the **length** of the site
//!   inside each feature and the share of the site;
//! - anything with points: the features the site touches are **counted**.
//!
//! The measure is decided before anything is measured, from the site's dimension and the highest
//! dimension among the layer's valid features (see [`Overlay::measure`]), so an overlay that
//! finds nothing still says what it would have measured. Every result carries its amounts in
//! that measure ([`OverlayItem::amount`], [`Overlay::total`]), the site's own size in it
//! ([`Overlay::site_measure`]) and the shares of the site: callers write them as they are.
//!
//! Features that only touch the site (zero area or length, up to rounding noise: see
//! [`NEGLIGIBLE`]) are not listed. Totals can be grouped
//! by a property (e.g. productive-area kind). Features with invalid geometries are left out and
//! listed in [`Overlay::skipped_invalid`].
//!
//! Cost: O(log n + k) index work for k candidates; per candidate, O(v·m) when the site is convex
//! (Sutherland-Hodgman clipping, see [`super::clip`]), otherwise a boolean intersection
//! (O((v + m) log(v + m))). Intersection geometries, when asked for, always come from the
//! boolean operation.
//!
//! Precision: the clip's areas are exact to f64 rounding (about 1e-12 m² per metre of the
//! site's perimeter). The boolean operation rounds every vertex to an integer grid fitted to the
//! site and the feature together, and its areas are off by up to √2 · g · P (grid step g,
//! 2^-15 m for a feature 40 km across; intersection perimeter P): a few 1e-7 of a hectare-sized
//! site inside a large park or belt. See [`super::clip`] for the derivation and its tests.

use std::collections::BTreeMap;

use geo::{
    Area, BooleanOps, Euclidean, Geometry, Intersects, Length, MultiLineString, MultiPolygon,
};

use super::clip::ConvexClip;
use super::{checked_envelope, field_index, AnalysisError};
use crate::store::Layer;

/// What an overlay measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Square metres of polygon-polygon intersection.
    Area,
    /// Metres of line inside polygon.
    Length,
    /// Only whether they meet.
    Count,
}

impl Measure {
    pub fn name(self) -> &'static str {
        match self {
            Measure::Area => "area",
            Measure::Length => "length",
            Measure::Count => "count",
        }
    }
}

/// Options of an overlay.
#[derive(Debug, Clone, Default)]
pub struct OverlayOptions<'a> {
    /// Return each intersection geometry (working CRS).
    pub with_geometry: bool,
    /// Property to total by (e.g. `kind`).
    pub group_by: Option<&'a str>,
}

/// One feature overlapped by the site.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlayItem {
    /// Index of the feature in [`Layer::features`].
    pub feature: u32,
    /// Intersection area in m² (0 unless the measure is an area).
    pub area_m2: f64,
    /// Intersected length in m (0 unless the measure is a length).
    pub length_m: f64,
    /// Share (0..=1) of the site's area or length that falls in the feature.
    pub site_share: Option<f64>,
    /// Share (0..=1) of the feature's area or length that falls in the site.
    pub feature_share: Option<f64>,
    /// The overlap in the overlay's [`Measure`]: m² (area), m (length), or 1 (count: the
    /// feature meets the site). A feature of a lower dimension than the layer's highest (a line
    /// in a layer of polygons) meets the site but measures 0 m².
    pub amount: f64,
    /// The intersection, when asked for.
    pub geometry: Option<Geometry<f64>>,
}

/// Totals for one value of the grouping property.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupTotal {
    /// The property value (empty for null).
    pub key: String,
    pub features: usize,
    pub area_m2: f64,
    pub length_m: f64,
    /// The group's overlap in the overlay's [`Measure`] (m², m, or number of features).
    pub amount: f64,
    /// Share of the site's area (or length) covered by this group.
    pub site_share: Option<f64>,
}

/// The result of [`overlay`].
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    /// What is measured, from the dimensions of the site and of the layer (its highest among
    /// valid features), whether or not anything overlaps: polygons in polygons an area, lines
    /// and polygons a length, anything else a count.
    pub measure: Measure,
    /// Area of the site (0 unless polygonal).
    pub site_area_m2: f64,
    /// Length of the site (0 unless linear).
    pub site_length_m: f64,
    /// The site's size in the measure, which every share of the site divides by: its area
    /// (area), its length when the site is a line (length); `None` when the site has no size
    /// in the measure (a polygonal site crossed by lines, a count).
    pub site_measure: Option<f64>,
    /// Overlapped features, in index order.
    pub items: Vec<OverlayItem>,
    /// Totals by the grouping property, sorted by key (empty without `group_by`).
    pub groups: Vec<GroupTotal>,
    pub total_area_m2: f64,
    pub total_length_m: f64,
    /// The sum of the items' amounts, in the measure: `total_area_m2` (area),
    /// `total_length_m` (length) or the number of items (count).
    pub total: f64,
    /// Share (0..=1) of the site covered by all the items together: `total / site_measure`.
    pub site_share: Option<f64>,
    /// Features that might overlap but were left out because their geometry is invalid.
    pub skipped_invalid: Vec<u32>,
}

/// Overlays `site` (working CRS) with `layer`.
///
/// ```
/// # use territorio::analysis::{overlay, OverlayOptions};
/// # fn demo(zones: &territorio::store::Layer, site: &geo::Geometry<f64>) -> Result<(), territorio::analysis::AnalysisError> {
/// let o = overlay(zones, site, &OverlayOptions { group_by: Some("kind"), ..Default::default() })?;
/// for g in &o.groups {
///     println!("{}: {:.0} m² ({:.1}% of the site)", g.key, g.area_m2, 100.0 * g.site_share.unwrap_or(0.0));
/// }
/// # Ok(()) }
/// ```
pub fn overlay(
    layer: &Layer,
    site: &Geometry<f64>,
    options: &OverlayOptions<'_>,
) -> Result<Overlay, AnalysisError> {
    let envelope = checked_envelope(site)?;
    let group_field = options
        .group_by
        .map(|f| field_index(layer, f))
        .transpose()?;
    let site_dim = dimension(site).ok_or_else(|| {
        AnalysisError::InvalidGeometry(
            "a site must be a point, line or polygon geometry (or their multi forms), not a collection".into(),
        )
    })?;
    let measure = match (site_dim, layer_dimension(layer)) {
        (2, 2) => Measure::Area,
        (2, 1) | (1, 2) => Measure::Length,
        _ => Measure::Count,
    };
    let site_polygons = (site_dim == 2).then(|| to_multipolygon(site));
    let site_lines = (site_dim == 1).then(|| to_multilinestring(site));
    let site_area = site_polygons.as_ref().map_or(0.0, |p| p.unsigned_area());
    let site_length = site_lines.as_ref().map_or(0.0, |l| Euclidean.length(l));
    let site_measure = match measure {
        Measure::Area => Some(site_area),
        Measure::Length if site_dim == 1 => Some(site_length),
        _ => None,
    };
    // Convex single polygons are clipped directly (fast, exact area).
    let convex = match (&site_polygons, options.with_geometry) {
        (Some(mp), false) if mp.0.len() == 1 => ConvexClip::new(&mp.0[0]),
        _ => None,
    };

    let mut items = Vec::new();
    let mut skipped_invalid = Vec::new();
    let mut candidates: Vec<u32> = layer.candidates(&envelope).collect();
    candidates.sort_unstable();
    for i in candidates {
        let feature = &layer.features[i as usize];
        if !feature.is_valid() {
            skipped_invalid.push(i);
            continue;
        }
        let g = &feature.geometry;
        let Some(feature_dim) = dimension(g) else {
            continue;
        };
        let item = match (site_dim, feature_dim) {
            (2, 2) => {
                let feature_polygons = to_multipolygon(g);
                let (area, geometry) = match (&convex, &site_polygons) {
                    (Some(clip), _) => (clip.multipolygon_area(&feature_polygons), None),
                    (None, Some(site_mp)) => {
                        if !site.intersects(g) {
                            continue;
                        }
                        let inter = site_mp.intersection(&feature_polygons);
                        let area = inter.unsigned_area();
                        (
                            area,
                            options
                                .with_geometry
                                .then_some(Geometry::MultiPolygon(inter)),
                        )
                    }
                    (None, None) => continue,
                };
                if negligible(area, site_area) {
                    continue;
                }
                let feature_area = feature_polygons.unsigned_area();
                OverlayItem {
                    feature: i,
                    area_m2: area,
                    length_m: 0.0,
                    site_share: share(area, site_area),
                    feature_share: share(area, feature_area),
                    amount: in_measure(measure, area, 0.0, 1),
                    geometry,
                }
            }
            (2, 1) => {
                let Some(site_mp) = &site_polygons else {
                    continue;
                };
                let lines = to_multilinestring(g);
                let inside = site_mp.clip(&lines, false);
                let length = Euclidean.length(&inside);
                if negligible(length, Euclidean.length(&lines)) {
                    continue;
                }
                OverlayItem {
                    feature: i,
                    area_m2: 0.0,
                    length_m: length,
                    site_share: None,
                    feature_share: share(length, Euclidean.length(&lines)),
                    amount: in_measure(measure, 0.0, length, 1),
                    geometry: options
                        .with_geometry
                        .then_some(Geometry::MultiLineString(inside)),
                }
            }
            (1, 2) => {
                let Some(site_ls) = &site_lines else { continue };
                if !site.intersects(g) {
                    continue;
                }
                let inside = to_multipolygon(g).clip(site_ls, false);
                let length = Euclidean.length(&inside);
                if negligible(length, site_length) {
                    continue;
                }
                OverlayItem {
                    feature: i,
                    area_m2: 0.0,
                    length_m: length,
                    site_share: share(length, site_length),
                    feature_share: None,
                    amount: in_measure(measure, 0.0, length, 1),
                    geometry: options
                        .with_geometry
                        .then_some(Geometry::MultiLineString(inside)),
                }
            }
            _ => {
                if !site.intersects(g) {
                    continue;
                }
                OverlayItem {
                    feature: i,
                    area_m2: 0.0,
                    length_m: 0.0,
                    site_share: None,
                    feature_share: None,
                    amount: in_measure(measure, 0.0, 0.0, 1),
                    geometry: None,
                }
            }
        };
        items.push(item);
    }

    let mut groups: BTreeMap<String, GroupTotal> = BTreeMap::new();
    if let Some(field) = group_field {
        for item in &items {
            let key = layer.features[item.feature as usize].values[field].as_key();
            let g = groups.entry(key.clone()).or_insert_with(|| GroupTotal {
                key,
                features: 0,
                area_m2: 0.0,
                length_m: 0.0,
                amount: 0.0,
                site_share: None,
            });
            g.features += 1;
            g.area_m2 += item.area_m2;
            g.length_m += item.length_m;
        }
        for g in groups.values_mut() {
            g.amount = in_measure(measure, g.area_m2, g.length_m, g.features);
            g.site_share = site_measure.and_then(|whole| share(g.amount, whole));
        }
    }
    let total_area_m2: f64 = items.iter().map(|i| i.area_m2).sum();
    let total_length_m: f64 = items.iter().map(|i| i.length_m).sum();
    let total = in_measure(measure, total_area_m2, total_length_m, items.len());
    Ok(Overlay {
        measure,
        site_area_m2: site_area,
        site_length_m: site_length,
        site_measure,
        total_area_m2,
        total_length_m,
        total,
        site_share: site_measure.and_then(|whole| share(total, whole)),
        items,
        groups: groups.into_values().collect(),
        skipped_invalid,
    })
}

/// Whether a measured area or length is rounding noise rather than an overlap: at most a
/// billionth of the reference (for a 1 km² site, a thousandth of a square metre). Shared
/// boundaries between adjacent features (a belt and the hole of the next belt) leave such slivers.
pub const NEGLIGIBLE: f64 = 1e-9;

fn negligible(measure: f64, reference: f64) -> bool {
    measure <= NEGLIGIBLE * reference
}

/// An area, a length or a count, whichever `measure` says.
fn in_measure(measure: Measure, area: f64, length: f64, count: usize) -> f64 {
    match measure {
        Measure::Area => area,
        Measure::Length => length,
        Measure::Count => count as f64,
    }
}

fn share(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| (part / whole).min(1.0))
}

/// The highest dimension among the layer's valid features (0 for an empty layer; collections
/// count as points, since nothing in them is measured).
fn layer_dimension(layer: &Layer) -> u8 {
    layer
        .geometry_types()
        .map(|t| {
            if t.ends_with("Polygon") {
                2
            } else if t.ends_with("LineString") {
                1
            } else {
                0
            }
        })
        .max()
        .unwrap_or(0)
}

/// 0 for points, 1 for lines, 2 for polygons; `None` for collections.
pub(crate) fn dimension(g: &Geometry<f64>) -> Option<u8> {
    match g {
        Geometry::Point(_) | Geometry::MultiPoint(_) => Some(0),
        Geometry::Line(_) | Geometry::LineString(_) | Geometry::MultiLineString(_) => Some(1),
        Geometry::Polygon(_)
        | Geometry::MultiPolygon(_)
        | Geometry::Rect(_)
        | Geometry::Triangle(_) => Some(2),
        Geometry::GeometryCollection(_) => None,
    }
}

pub(crate) fn to_multipolygon(g: &Geometry<f64>) -> MultiPolygon<f64> {
    match g {
        Geometry::Polygon(p) => MultiPolygon(vec![p.clone()]),
        Geometry::MultiPolygon(mp) => mp.clone(),
        Geometry::Rect(r) => MultiPolygon(vec![r.to_polygon()]),
        Geometry::Triangle(t) => MultiPolygon(vec![t.to_polygon()]),
        _ => MultiPolygon(vec![]),
    }
}

pub(crate) fn to_multilinestring(g: &Geometry<f64>) -> MultiLineString<f64> {
    match g {
        Geometry::Line(l) => MultiLineString(vec![geo::LineString(vec![l.start, l.end])]),
        Geometry::LineString(ls) => MultiLineString(vec![ls.clone()]),
        Geometry::MultiLineString(mls) => mls.clone(),
        _ => MultiLineString(vec![]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{layer, Rng};
    use geo::{line_string, polygon, Polygon};

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Geometry<f64> {
        Geometry::Polygon(polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)])
    }

    #[test]
    fn hand_checked_areas_shares_and_groups() {
        // Zones: A1 [0,100]x[0,100] industrial, A2 [100,200]x[0,100] industrial,
        // B [0,200]x[100,200] logistics, C far away.
        let zones = layer(vec![
            (rect(0., 0., 100., 100.), "industrial"),
            (rect(100., 0., 200., 100.), "industrial"),
            (rect(0., 100., 200., 200.), "logistics"),
            (rect(1000., 1000., 1100., 1100.), "commercial"),
        ]);
        // Site [50,150]x[50,150]: 2500 m² in each of A1 and A2, 5000 m² in B.
        // Once through the convex clipper (no geometry asked), once through the boolean path.
        let site = rect(50., 50., 150., 150.);
        for with_geometry in [false, true] {
            let o = overlay(
                &zones,
                &site,
                &OverlayOptions {
                    group_by: Some("kind"),
                    with_geometry,
                },
            )
            .unwrap();
            assert_eq!(o.measure, Measure::Area);
            assert_eq!(o.site_area_m2, 10_000.0);
            let areas: Vec<(u32, f64)> = o.items.iter().map(|i| (i.feature, i.area_m2)).collect();
            assert_eq!(areas, vec![(0, 2500.0), (1, 2500.0), (2, 5000.0)]);
            assert_eq!(o.items[0].site_share, Some(0.25));
            assert_eq!(o.items[0].feature_share, Some(0.25));
            assert_eq!(o.items[2].feature_share, Some(0.25));
            assert_eq!(o.total_area_m2, 10_000.0);
            // In the measure: the amounts are the areas, the site's measure its area.
            let amounts: Vec<f64> = o.items.iter().map(|i| i.amount).collect();
            assert_eq!(amounts, vec![2500.0, 2500.0, 5000.0]);
            assert_eq!(o.site_measure, Some(10_000.0));
            assert_eq!(o.total, 10_000.0);
            assert_eq!(o.site_share, Some(1.0));
            let groups: Vec<(&str, usize, f64, f64, Option<f64>)> = o
                .groups
                .iter()
                .map(|g| {
                    (
                        g.key.as_str(),
                        g.features,
                        g.area_m2,
                        g.amount,
                        g.site_share,
                    )
                })
                .collect();
            assert_eq!(
                groups,
                vec![
                    ("industrial", 2, 5000.0, 5000.0, Some(0.5)),
                    ("logistics", 1, 5000.0, 5000.0, Some(0.5))
                ]
            );
            if with_geometry {
                let g = o.items[2].geometry.as_ref().unwrap();
                assert_eq!(g.unsigned_area(), 5000.0);
            } else {
                assert!(o.items.iter().all(|i| i.geometry.is_none()));
            }
        }
    }

    #[test]
    fn lines_in_a_site_and_a_line_site_in_zones() {
        let roads = layer(vec![
            (
                Geometry::LineString(line_string![(x: -50., y: 10.), (x: 150., y: 10.)]),
                "SP",
            ),
            (
                Geometry::LineString(line_string![(x: 500., y: 0.), (x: 600., y: 0.)]),
                "SS",
            ),
        ]);
        let site = rect(0., 0., 100., 100.);
        let o = overlay(&roads, &site, &OverlayOptions::default()).unwrap();
        assert_eq!(o.measure, Measure::Length);
        assert_eq!(o.items.len(), 1);
        assert!((o.items[0].length_m - 100.0).abs() < 1e-9);
        assert_eq!(o.items[0].amount, o.items[0].length_m);
        assert!((o.items[0].feature_share.unwrap() - 0.5).abs() < 1e-12);
        // A polygonal site has no length: no share of it.
        assert_eq!(o.total, o.total_length_m);
        assert_eq!((o.site_measure, o.site_share), (None, None));

        // A 300 m route from x=-100 to x=200 at y=50 crosses zone [0,100]² for 100 m.
        let zones = layer(vec![(rect(0., 0., 100., 100.), "park")]);
        let route = Geometry::LineString(line_string![(x: -100., y: 50.), (x: 200., y: 50.)]);
        let o = overlay(&zones, &route, &OverlayOptions::default()).unwrap();
        assert_eq!(o.site_length_m, 300.0);
        assert!((o.items[0].length_m - 100.0).abs() < 1e-9);
        assert!((o.items[0].site_share.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(o.site_measure, Some(300.0));
        assert!((o.total - 100.0).abs() < 1e-9);
        assert!((o.site_share.unwrap() - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn the_measure_comes_from_the_layer_not_from_what_overlaps() {
        // A layer of a point, a line and a square, in that order and reversed: a polygonal
        // site measures areas whichever feature comes last, and even when nothing overlaps.
        let square = rect(0., 0., 10., 10.);
        let line = Geometry::LineString(line_string![(x: -5., y: 5.), (x: 5., y: 5.)]);
        let point = Geometry::Point(geo::point!(x: 2., y: 2.));
        // Site [5,15]x[0,10]: 50 m² of the square, 0 m of the line (it stops at x = 5),
        // the point is outside.
        let site = rect(5., 0., 15., 10.);
        for order in [
            vec![
                (point.clone(), "p"),
                (line.clone(), "l"),
                (square.clone(), "s"),
            ],
            vec![
                (square.clone(), "s"),
                (line.clone(), "l"),
                (point.clone(), "p"),
            ],
        ] {
            let l = layer(order);
            let o = overlay(&l, &site, &OverlayOptions::default()).unwrap();
            assert_eq!(o.measure, Measure::Area);
            assert_eq!(o.items.len(), 1);
            assert_eq!(o.items[0].amount, 50.0);
            assert_eq!((o.total, o.site_share), (50.0, Some(0.5)));
        }
        // A site that meets the line and the point only: still areas, 0 m² each.
        let l = layer(vec![(point, "p"), (line, "l"), (square, "s")]);
        let strip = rect(1., 1., 4., 6.);
        let o = overlay(&l, &strip, &OverlayOptions::default()).unwrap();
        assert_eq!(o.measure, Measure::Area);
        // The square overlaps the strip entirely (15 m²); the line crosses it for 3 m, which
        // an area does not count; the point at (2,2) lies in it.
        let got: Vec<(u32, f64, f64)> = o
            .items
            .iter()
            .map(|i| (i.feature, i.amount, i.length_m))
            .collect();
        assert_eq!(got, vec![(0, 0.0, 0.0), (1, 0.0, 3.0), (2, 15.0, 0.0)]);
        assert_eq!(o.total, 15.0);
        // Nothing overlapped: the measure is the same.
        let away = rect(100., 100., 110., 110.);
        let o = overlay(&l, &away, &OverlayOptions::default()).unwrap();
        assert_eq!((o.measure, o.items.len()), (Measure::Area, 0));
        assert_eq!((o.total, o.site_share), (0.0, Some(0.0)));
        // Points: counted; the total is the number of features met, with no share of the site.
        let wells = layer(vec![
            (Geometry::Point(geo::point!(x: 1., y: 1.)), "w"),
            (Geometry::Point(geo::point!(x: 2., y: 1.)), "w"),
            (Geometry::Point(geo::point!(x: 50., y: 1.)), "w"),
        ]);
        let o = overlay(&wells, &rect(0., 0., 10., 10.), &OverlayOptions::default()).unwrap();
        assert_eq!(o.measure, Measure::Count);
        assert_eq!((o.total, o.site_measure, o.site_share), (2.0, None, None));
        assert!(o.items.iter().all(|i| i.amount == 1.0));
    }

    #[test]
    fn unknown_group_field_is_named() {
        let zones = layer(vec![(rect(0., 0., 1., 1.), "a")]);
        let e = overlay(
            &zones,
            &rect(0., 0., 1., 1.),
            &OverlayOptions {
                group_by: Some("tipo"),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("\"tipo\"") && e.to_string().contains("kind"),
            "{e}"
        );
    }

    #[test]
    fn convex_and_general_paths_agree_with_brute_force() {
        let mut rng = Rng(9);
        let mut zones = Vec::new();
        for _ in 0..300 {
            let (x, y, s) = (
                rng.range(0., 2000.),
                rng.range(0., 2000.),
                rng.range(20., 200.),
            );
            zones.push((Geometry::Polygon(polygon![(x: x, y: y), (x: x + s, y: y), (x: x + s * 0.7, y: y + s), (x: x + 0.1 * s, y: y + 0.6 * s)]), "z"));
        }
        let l = layer(zones);
        for q in 0..40 {
            let (x, y) = (rng.range(0., 1800.), rng.range(0., 1800.));
            let site: Polygon<f64> = polygon![(x: x, y: y), (x: x + 300., y: y + 40.), (x: x + 250., y: y + 280.), (x: x - 20., y: y + 200.)];
            let site_g = Geometry::Polygon(site.clone());
            let fast = overlay(&l, &site_g, &OverlayOptions::default()).unwrap();
            let slow = overlay(
                &l,
                &site_g,
                &OverlayOptions {
                    with_geometry: true,
                    ..Default::default()
                },
            )
            .unwrap();
            let brute: Vec<(u32, f64)> = l
                .features
                .iter()
                .enumerate()
                .filter_map(|(i, f)| {
                    let Geometry::Polygon(p) = &f.geometry else {
                        return None;
                    };
                    let a = site.intersection(p).unsigned_area();
                    (a > NEGLIGIBLE * site.unsigned_area()).then_some((i as u32, a))
                })
                .collect();
            for o in [&fast, &slow] {
                assert_eq!(o.items.len(), brute.len(), "query {q}");
                for (item, (i, a)) in o.items.iter().zip(&brute) {
                    assert_eq!(item.feature, *i);
                    assert!(
                        (item.area_m2 - a).abs() <= 1e-6 * a.max(1.0),
                        "query {q}: {} vs {a}",
                        item.area_m2
                    );
                }
            }
        }
    }
}
