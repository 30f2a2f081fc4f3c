//! Spatial join, a planner's "join attributes by location": for every feature of a target layer
//! (projects), the features of a join layer (municipalities, productive-area zones, fluvial
//! belts) it meets, and which of them it takes its attributes from.
//!
//! The options are those of QGIS's "Join attributes by location":
//! - the predicate, read "target PREDICATE join feature": [`JoinPredicate::Intersects`] (they
//!   share a point), [`JoinPredicate::Within`] (the target lies inside the join feature, not on
//!   its boundary only) or [`JoinPredicate::Contains`] (the other way round);
//! - what to do with several matches: [`JoinMode::All`] (one row per match, QGIS's
//!   "one-to-many", its default), [`JoinMode::First`] (the first match; QGIS takes the first the
//!   provider returns, here it is the first in the join layer's order, so the answer does not
//!   depend on the index) or [`JoinMode::LargestOverlap`] (the match with the largest area of
//!   overlap for a polygon target, the largest length for a line; ties, and point targets, for
//!   which every overlap is 0, fall back to the first).
//!
//! Each target is one indexed query ([`select`]), with the target's geometry as the query:
//! `within` and `contains` swap the roles of the two geometries in [`Predicate`]'s reading
//! ("feature PREDICATE query"). Invalid target geometries are not queried: they have no match and
//! are listed in [`Join::skipped_invalid`]. Invalid join features take part in `intersects`
//! (robust on any input) and are left out of `within`/`contains`, as in [`select`]; with
//! [`JoinMode::LargestOverlap`] they are not measured and lose to any valid match.
//!
//! Cost: n_target × (O(log n_join + k) index work + k exact tests) for k candidates per target,
//! plus, with [`JoinMode::LargestOverlap`], one intersection per match of a target with several
//! matches (linear in the vertices for a convex polygon target, O((v + m) log(v + m))
//! otherwise). Targets are shared among the cores (rayon).

use std::fmt;
use std::str::FromStr;

use geo::{Area, BooleanOps, Euclidean, Geometry, Length, MultiLineString, MultiPolygon};
use rayon::prelude::*;

use super::clip::ConvexClip;
use super::overlay::{dimension, to_multilinestring, to_multipolygon};
use super::predicates::{select, Predicate};
use super::AnalysisError;
use crate::store::Layer;

/// How a target feature must meet a join feature, read "target PREDICATE join feature".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JoinPredicate {
    /// They share at least one point (QGIS's "intersect").
    #[default]
    Intersects,
    /// The target lies inside the join feature (QGIS's "are within").
    Within,
    /// The target contains the join feature (QGIS's "contain").
    Contains,
}

impl JoinPredicate {
    pub fn name(self) -> &'static str {
        match self {
            JoinPredicate::Intersects => "intersects",
            JoinPredicate::Within => "within",
            JoinPredicate::Contains => "contains",
        }
    }

    /// The same relation in [`select`]'s reading, with the target as the query.
    fn as_select(self) -> Predicate {
        match self {
            JoinPredicate::Intersects => Predicate::Intersects,
            JoinPredicate::Within => Predicate::Contains,
            JoinPredicate::Contains => Predicate::Within,
        }
    }
}

impl FromStr for JoinPredicate {
    type Err = AnalysisError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "intersects" => Ok(JoinPredicate::Intersects),
            "within" => Ok(JoinPredicate::Within),
            "contains" => Ok(JoinPredicate::Contains),
            other => Err(AnalysisError::BadParameter(format!(
                "unknown join predicate {other:?}: use intersects, within or contains"
            ))),
        }
    }
}

impl fmt::Display for JoinPredicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which matches a target takes its attributes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JoinMode {
    /// Every match, one row each (QGIS's "one-to-many").
    #[default]
    All,
    /// The first match in the join layer's order.
    First,
    /// The match with the largest overlap (area, or length for a line target).
    LargestOverlap,
}

impl JoinMode {
    pub fn name(self) -> &'static str {
        match self {
            JoinMode::All => "all",
            JoinMode::First => "first",
            JoinMode::LargestOverlap => "largest",
        }
    }
}

impl FromStr for JoinMode {
    type Err = AnalysisError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "all" => Ok(JoinMode::All),
            "first" => Ok(JoinMode::First),
            "largest" => Ok(JoinMode::LargestOverlap),
            other => Err(AnalysisError::BadParameter(format!(
                "unknown join mode {other:?}: use all, first or largest"
            ))),
        }
    }
}

impl fmt::Display for JoinMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Options of a spatial join.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JoinOptions {
    pub predicate: JoinPredicate,
    pub mode: JoinMode,
}

/// The result of [`spatial_join`].
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    /// For each target feature (by index in [`Layer::features`]), the indices of the join
    /// features it takes attributes from: every match in index order ([`JoinMode::All`]), or at
    /// most one. Empty when nothing matches.
    pub matches: Vec<Vec<u32>>,
    /// Target features with an invalid geometry, which were not joined.
    pub skipped_invalid: Vec<u32>,
}

impl Join {
    /// How many target features have at least one match.
    pub fn matched(&self) -> usize {
        self.matches.iter().filter(|m| !m.is_empty()).count()
    }
}

/// Joins each feature of `target` to the features of `join` it meets (both in the working CRS).
///
/// ```
/// # use territorio::analysis::join::{spatial_join, JoinMode, JoinOptions, JoinPredicate};
/// # fn demo(projects: &territorio::store::Layer, municipalities: &territorio::store::Layer) {
/// // The municipality holding the largest part of each project.
/// let options = JoinOptions { predicate: JoinPredicate::Intersects, mode: JoinMode::LargestOverlap };
/// let joined = spatial_join(projects, municipalities, &options);
/// for (project, found) in projects.features.iter().zip(&joined.matches) {
///     if let Some(&m) = found.first() {
///         println!("{} is in {}", project.id, municipalities.features[m as usize].id);
///     }
/// }
/// # }
/// ```
pub fn spatial_join(target: &Layer, join: &Layer, options: &JoinOptions) -> Join {
    let predicate = options.predicate.as_select();
    let matches: Vec<Vec<u32>> = target
        .features
        .par_iter()
        .map(|f| {
            if !f.is_valid() {
                return Vec::new();
            }
            // A valid geometry is a valid query: `select` cannot fail on it.
            let mut found = select(join, &f.geometry, predicate).unwrap_or_default();
            if found.len() > 1 {
                match options.mode {
                    JoinMode::All => {}
                    JoinMode::First => found.truncate(1),
                    JoinMode::LargestOverlap => {
                        found = vec![largest_overlap(&f.geometry, join, &found)]
                    }
                }
            }
            found
        })
        .collect();
    let skipped_invalid = target
        .features
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.is_valid())
        .map(|(i, _)| i as u32)
        .collect();
    Join {
        matches,
        skipped_invalid,
    }
}

/// The match (of at least two, in index order) with the largest overlap with `target`: the
/// first of the largest, and invalid join features after every valid one.
fn largest_overlap(target: &Geometry<f64>, join: &Layer, found: &[u32]) -> u32 {
    let measure = Overlap::new(target);
    let mut best = (found[0], None::<f64>);
    for &j in found {
        let feature = &join.features[j as usize];
        let amount = feature.is_valid().then(|| measure.with(&feature.geometry));
        // `None < Some(_)`; a later match must be strictly larger to win.
        if amount.is_some_and(|a| best.1.is_none_or(|b| a > b)) {
            best = (j, amount);
        }
    }
    best.0
}

/// The overlap of one target with join features: area for polygons in polygons, length for
/// lines and polygons, 0 otherwise (points, lines with lines).
enum Overlap {
    /// A polygonal target, with its clipper when it is one convex polygon.
    Polygons(MultiPolygon<f64>, Option<ConvexClip>),
    Lines(MultiLineString<f64>),
    Nothing,
}

impl Overlap {
    fn new(target: &Geometry<f64>) -> Overlap {
        match dimension(target) {
            Some(2) => {
                let polygons = to_multipolygon(target);
                let convex = match polygons.0.as_slice() {
                    [single] => ConvexClip::new(single),
                    _ => None,
                };
                Overlap::Polygons(polygons, convex)
            }
            Some(1) => Overlap::Lines(to_multilinestring(target)),
            _ => Overlap::Nothing,
        }
    }

    fn with(&self, feature: &Geometry<f64>) -> f64 {
        match (self, dimension(feature)) {
            (Overlap::Polygons(_, Some(clip)), Some(2)) => {
                clip.multipolygon_area(&to_multipolygon(feature))
            }
            (Overlap::Polygons(p, None), Some(2)) => {
                p.intersection(&to_multipolygon(feature)).unsigned_area()
            }
            (Overlap::Polygons(p, _), Some(1)) => {
                Euclidean.length(&p.clip(&to_multilinestring(feature), false))
            }
            (Overlap::Lines(l), Some(2)) => {
                Euclidean.length(&to_multipolygon(feature).clip(l, false))
            }
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{layer, province, Rng};
    use geo::{line_string, point, polygon, Contains, Intersects, Relate};

    fn ids(l: &Layer, found: &[u32]) -> Vec<String> {
        found
            .iter()
            .map(|&i| l.features[i as usize].id.to_string())
            .collect()
    }

    #[test]
    fn hand_checked_projects_in_municipalities() {
        // Municipalities A = [0,1000]x[0,1000], B = [1000,2000]x[0,1000]. Projects:
        // P1 = [700,1400]x[100,300]: 300 x 200 = 60,000 m² in A, 400 x 200 = 80,000 m² in B;
        // P2 = point (200,250), inside A;
        // P3 = line (400,500)-(1500,500): 600 m in A, 500 m in B.
        let c = province();
        let projects = c.layer("projects").unwrap();
        let municipalities = c.layer("municipalities").unwrap();
        let run = |predicate, mode| {
            let j = spatial_join(projects, municipalities, &JoinOptions { predicate, mode });
            assert!(j.skipped_invalid.is_empty());
            j.matches
                .iter()
                .map(|m| ids(municipalities, m))
                .collect::<Vec<_>>()
        };
        use JoinMode::*;
        use JoinPredicate::*;
        assert_eq!(
            run(Intersects, All),
            vec![vec!["A", "B"], vec!["A"], vec!["A", "B"]]
        );
        assert_eq!(
            run(Intersects, First),
            vec![vec!["A"], vec!["A"], vec!["A"]]
        );
        assert_eq!(
            run(Intersects, LargestOverlap),
            vec![vec!["B"], vec!["A"], vec!["A"]]
        );
        // Only P2 lies inside one municipality.
        let none: Vec<String> = vec![];
        assert_eq!(
            run(Within, All),
            vec![none.clone(), vec!["A".to_string()], none.clone()]
        );
        // Productive areas PA1 = [100,400]² and PA2 = [1600,1900]x[600,900]: P2 lies in PA1;
        // P1 (x from 700) and P3 (y = 500) miss both; and no project contains a whole area.
        let productive = c.layer("productive_areas").unwrap();
        let j = spatial_join(projects, productive, &JoinOptions::default());
        assert_eq!(j.matches, vec![vec![], vec![0], vec![]]);
        assert_eq!(j.matched(), 1);
        let j = spatial_join(
            projects,
            productive,
            &JoinOptions {
                predicate: Contains,
                mode: All,
            },
        );
        assert_eq!(j.matched(), 0);
        // The other way round: municipality A contains P2 and B contains nothing whole.
        let j = spatial_join(
            municipalities,
            projects,
            &JoinOptions {
                predicate: Contains,
                mode: All,
            },
        );
        assert_eq!(j.matches, vec![vec![1], vec![]]);
    }

    #[test]
    fn largest_overlap_of_a_line_ties_and_invalid_targets() {
        // Zones Z1 = [0,10]², Z2 = [10,20]x[0,10], Z3 = [20,30]x[0,10].
        let zones = layer(vec![
            (
                Geometry::Polygon(
                    polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)],
                ),
                "z",
            ),
            (
                Geometry::Polygon(
                    polygon![(x: 10., y: 0.), (x: 20., y: 0.), (x: 20., y: 10.), (x: 10., y: 10.)],
                ),
                "z",
            ),
            (
                Geometry::Polygon(
                    polygon![(x: 20., y: 0.), (x: 30., y: 0.), (x: 30., y: 10.), (x: 20., y: 10.)],
                ),
                "z",
            ),
        ]);
        let mut targets = layer(vec![
            // 2 m in Z1, 10 m in Z2, 3 m in Z3: Z2.
            (
                Geometry::LineString(line_string![(x: 8., y: 5.), (x: 23., y: 5.)]),
                "t",
            ),
            // 5 m in each of Z1 and Z2: a tie, the first wins.
            (
                Geometry::LineString(line_string![(x: 5., y: 5.), (x: 15., y: 5.)]),
                "t",
            ),
            // A point on the edge between Z2 and Z3 meets both; no overlap: the first.
            (Geometry::Point(point!(x: 20., y: 5.)), "t"),
            // A concave polygon target: an L over Z1 (10 x 2 = 20 m²) and Z2 (8 x 2 + 2 x 8 =
            // 32 m²), from x = 0 to 18.
            (
                Geometry::Polygon(
                    polygon![(x: 0., y: 0.), (x: 18., y: 0.), (x: 18., y: 10.), (x: 16., y: 10.), (x: 16., y: 2.), (x: 0., y: 2.)],
                ),
                "t",
            ),
            // Invalid: skipped.
            (Geometry::Point(point!(x: 1., y: 1.)), "t"),
        ]);
        targets.features[4].invalid = Some("made invalid for the test".into());
        let j = spatial_join(
            &targets,
            &zones,
            &JoinOptions {
                predicate: JoinPredicate::Intersects,
                mode: JoinMode::LargestOverlap,
            },
        );
        assert_eq!(j.matches, vec![vec![1], vec![0], vec![1], vec![1], vec![]]);
        assert_eq!(j.skipped_invalid, vec![4]);
    }

    /// The overlap for the brute force, by other means than the code under test: boolean
    /// intersection for two polygons, Cyrus-Beck clipping of a segment by a convex polygon
    /// (the zones here are convex) for a line.
    fn brute_overlap(t: &Geometry<f64>, f: &Geometry<f64>) -> f64 {
        match (t, f) {
            (Geometry::Polygon(a), Geometry::Polygon(b)) => a.intersection(b).unsigned_area(),
            (Geometry::LineString(l), Geometry::Polygon(b)) => {
                let (p, q) = (l.0[0], l.0[1]);
                let ring = &b.exterior().0;
                // Counter-clockwise ring: inside is left of every edge.
                let (mut t0, mut t1) = (0.0f64, 1.0f64);
                for e in ring.windows(2) {
                    let (a, b) = (e[0], e[1]);
                    let side =
                        |c: geo::Coord<f64>| (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
                    let (sp, sq) = (side(p), side(q));
                    if sp < 0.0 && sq < 0.0 {
                        return 0.0;
                    }
                    if sp < 0.0 {
                        t0 = t0.max(sp / (sp - sq));
                    } else if sq < 0.0 {
                        t1 = t1.min(sp / (sp - sq));
                    }
                }
                (t1 - t0).max(0.0) * ((q.x - p.x).powi(2) + (q.y - p.y).powi(2)).sqrt()
            }
            _ => 0.0,
        }
    }

    #[test]
    fn agrees_with_brute_force_on_random_data() {
        let mut rng = Rng(23);
        // Join layer: 400 random quadrilaterals (overlapping one another) over 2 km.
        let mut zones = Vec::new();
        for _ in 0..400 {
            let (x, y, s) = (
                rng.range(0., 2000.),
                rng.range(0., 2000.),
                rng.range(30., 250.),
            );
            zones.push((
                Geometry::Polygon(polygon![(x: x, y: y), (x: x + s, y: y + 0.1 * s), (x: x + 0.8 * s, y: y + s), (x: x - 0.1 * s, y: y + 0.7 * s)]),
                "z",
            ));
        }
        let zones = layer(zones);
        // Targets: points, small triangles and short lines.
        let mut targets = Vec::new();
        for i in 0..600 {
            let (x, y) = (rng.range(0., 2000.), rng.range(0., 2000.));
            let g = match i % 3 {
                0 => Geometry::Point(point!(x: x, y: y)),
                1 => {
                    let s = rng.range(5., 80.);
                    Geometry::Polygon(polygon![(x: x, y: y), (x: x + s, y: y), (x: x, y: y + s)])
                }
                _ => Geometry::LineString(
                    line_string![(x: x, y: y), (x: x + rng.range(-60., 60.), y: y + rng.range(-60., 60.))],
                ),
            };
            targets.push((g, "t"));
        }
        let targets = layer(targets);
        for predicate in [
            JoinPredicate::Intersects,
            JoinPredicate::Within,
            JoinPredicate::Contains,
        ] {
            let brute: Vec<Vec<u32>> = targets
                .features
                .iter()
                .map(|t| {
                    zones
                        .features
                        .iter()
                        .enumerate()
                        .filter(|(_, z)| match predicate {
                            JoinPredicate::Intersects => t.geometry.intersects(&z.geometry),
                            JoinPredicate::Within => z.geometry.contains(&t.geometry),
                            JoinPredicate::Contains => t.geometry.relate(&z.geometry).is_contains(),
                        })
                        .map(|(j, _)| j as u32)
                        .collect()
                })
                .collect();
            if predicate == JoinPredicate::Intersects {
                // The zones overlap: many targets meet several, which the modes tell apart.
                assert!(brute.iter().filter(|m| m.len() > 1).count() > 50);
            }
            let all = spatial_join(
                &targets,
                &zones,
                &JoinOptions {
                    predicate,
                    mode: JoinMode::All,
                },
            );
            assert_eq!(all.matches, brute, "{predicate}");
            let first = spatial_join(
                &targets,
                &zones,
                &JoinOptions {
                    predicate,
                    mode: JoinMode::First,
                },
            );
            let want: Vec<Vec<u32>> = brute
                .iter()
                .map(|m| m.iter().take(1).copied().collect())
                .collect();
            assert_eq!(first.matches, want, "{predicate}");
            let largest = spatial_join(
                &targets,
                &zones,
                &JoinOptions {
                    predicate,
                    mode: JoinMode::LargestOverlap,
                },
            );
            for (i, (got, m)) in largest.matches.iter().zip(&brute).enumerate() {
                let t = &targets.features[i].geometry;
                match m.as_slice() {
                    [] => assert!(got.is_empty()),
                    [only] => assert_eq!(got, &vec![*only]),
                    _ => {
                        assert_eq!(got.len(), 1);
                        assert!(m.contains(&got[0]));
                        let overlap =
                            |j: u32| brute_overlap(t, &zones.features[j as usize].geometry);
                        let best = m.iter().map(|&j| overlap(j)).fold(0.0, f64::max);
                        // The chosen overlap is the largest, up to the boolean operation's
                        // rounding (a few 1e-7 of it at most: see the clip module).
                        assert!(overlap(got[0]) >= best * (1.0 - 1e-6), "target {i}");
                        if best == 0.0 {
                            assert_eq!(got[0], m[0], "target {i}: no overlap, the first");
                        }
                    }
                }
            }
        }
    }
}
