//! Spatial operators: geometry literals moved to the working CRS, and their exact tests.

use geo::{BoundingRect, Coord, Geometry, Intersects, LineString, Point, Polygon, Rect, Relate};

use super::FilterError;
use crate::analysis::Region;
use crate::crs::{self, CrsError, Transformer};
use crate::feature::Feature;

/// A spatial operator, read as "feature OP literal".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpatialOp {
    Intersects,
    Disjoint,
    Within,
    Contains,
    Touches,
    Crosses,
    Overlaps,
    Equals,
}

impl SpatialOp {
    pub(crate) fn from_name(op: &str) -> Option<SpatialOp> {
        Some(match op {
            "s_intersects" => SpatialOp::Intersects,
            "s_disjoint" => SpatialOp::Disjoint,
            "s_within" => SpatialOp::Within,
            "s_contains" => SpatialOp::Contains,
            "s_touches" => SpatialOp::Touches,
            "s_crosses" => SpatialOp::Crosses,
            "s_overlaps" => SpatialOp::Overlaps,
            "s_equals" => SpatialOp::Equals,
            _ => return None,
        })
    }

    /// The same relation read the other way round ("literal OP feature" as "feature OP' literal").
    pub(crate) fn converse(self) -> SpatialOp {
        match self {
            SpatialOp::Within => SpatialOp::Contains,
            SpatialOp::Contains => SpatialOp::Within,
            other => other,
        }
    }

    /// The relation between two geometries, from their DE-9IM matrix.
    pub(crate) fn holds(self, a: &Geometry<f64>, b: &Geometry<f64>) -> bool {
        match self {
            SpatialOp::Intersects => a.intersects(b),
            SpatialOp::Disjoint => !a.intersects(b),
            _ => self.of_matrix(&a.relate(b)),
        }
    }

    fn of_matrix(self, m: &geo::relate::IntersectionMatrix) -> bool {
        match self {
            SpatialOp::Intersects => m.is_intersects(),
            SpatialOp::Disjoint => m.is_disjoint(),
            SpatialOp::Within => m.is_within(),
            SpatialOp::Contains => m.is_contains(),
            SpatialOp::Touches => m.is_touches(),
            SpatialOp::Crosses => m.is_crosses(),
            SpatialOp::Overlaps => m.is_overlaps(),
            SpatialOp::Equals => m.is_equal_topo(),
        }
    }
}

/// "feature OP literal", with the literal in the working CRS.
///
/// The literal is not kept as a geo `PreparedGeometry`: that holds `Rc`s, and a `Filter` must
/// be `Send + Sync`. The DE-9IM operators reject features whose box misses the literal's
/// before building a relate graph.
///
/// A polygon literal of `S_INTERSECTS` / `S_DISJOINT` (a box sent in another CRS becomes one)
/// is also kept as a [`Region`], which answers the same question faster for features well
/// inside it.
#[derive(Debug)]
pub(crate) struct SpatialTest {
    op: SpatialOp,
    literal: Geometry<f64>,
    rect: Rect<f64>,
    region: Option<Region>,
}

impl SpatialTest {
    pub(crate) fn new(op: SpatialOp, literal: Geometry<f64>, rect: Rect<f64>) -> SpatialTest {
        let region = match (&literal, op) {
            (Geometry::Polygon(p), SpatialOp::Intersects | SpatialOp::Disjoint) => {
                Some(Region::new(p.clone()))
            }
            _ => None,
        };
        SpatialTest {
            op,
            literal,
            rect,
            region,
        }
    }

    fn intersects(&self, f: &Feature) -> bool {
        match &self.region {
            Some(region) => region.intersects(&f.geometry),
            None => f.geometry.intersects(&self.literal),
        }
    }

    /// The box every matching feature's envelope intersects (all operators but disjoint
    /// need the two geometries to share a point).
    pub(crate) fn required_box(&self) -> Option<Rect<f64>> {
        (self.op != SpatialOp::Disjoint).then_some(self.rect)
    }

    pub(crate) fn eval(&self, f: &Feature) -> Option<bool> {
        match self.op {
            SpatialOp::Intersects => Some(self.intersects(f)),
            SpatialOp::Disjoint => Some(!self.intersects(f)),
            _ if !f.is_valid() => None,
            op => {
                // Every DE-9IM operator here needs a shared point.
                let disjoint_boxes = f
                    .geometry
                    .bounding_rect()
                    .is_none_or(|r| !r.intersects(&self.rect));
                if disjoint_boxes {
                    return Some(false);
                }
                Some(op.of_matrix(&f.geometry.relate(&self.literal)))
            }
        }
    }
}

/// Where geometry literals come from and go to.
pub(crate) struct LiteralCrs<'a> {
    pub(crate) filter_crs: &'a str,
    pub(crate) working_crs: &'a str,
}

impl LiteralCrs<'_> {
    fn crs_error(&self, source: CrsError) -> FilterError {
        FilterError::Crs {
            crs: self.filter_crs.to_string(),
            source,
        }
    }

    /// Moves a literal given in the filter CRS (in its authority axis order) to the working CRS,
    /// checks it and returns it with its box.
    pub(crate) fn geometry(
        &self,
        mut g: Geometry<f64>,
        text: &dyn Fn() -> String,
    ) -> Result<(Geometry<f64>, Rect<f64>), FilterError> {
        if axis_is_yx(self.filter_crs).map_err(|e| self.crs_error(e))? {
            crs::swap_axes(&mut g);
        }
        with_transformer(self.filter_crs, self.working_crs, |t| t.geometry(&mut g))
            .map_err(|e| self.crs_error(e))?;
        checked(g, text)
    }

    /// A `BBOX(x1, y1, x2, y2)` (in the filter CRS's axis order) as a polygon in the working
    /// CRS: the box's edges are densified before they are moved, since a box in one CRS is not
    /// a box in another. A box of zero width or height becomes a line or a point.
    pub(crate) fn bbox(
        &self,
        values: [f64; 4],
        text: &dyn Fn() -> String,
    ) -> Result<(Geometry<f64>, Rect<f64>), FilterError> {
        let bad = |reason: &str| FilterError::BadGeometry {
            literal: text(),
            reason: reason.to_string(),
        };
        let [mut x1, mut y1, mut x2, mut y2] = values;
        if values.iter().any(|v| !v.is_finite()) {
            return Err(bad("coordinates must be finite numbers"));
        }
        if axis_is_yx(self.filter_crs).map_err(|e| self.crs_error(e))? {
            std::mem::swap(&mut x1, &mut y1);
            std::mem::swap(&mut x2, &mut y2);
        }
        if x1 > x2 || y1 > y2 {
            return Err(bad(
                "the lower corner must come first and not exceed the upper corner",
            ));
        }
        let (min, max) = (Coord { x: x1, y: y1 }, Coord { x: x2, y: y2 });
        let g = with_transformer(self.filter_crs, self.working_crs, |t| {
            if min == max {
                return t.coord(min).map(|c| Geometry::Point(Point(c)));
            }
            let mut coords = if min.x == max.x || min.y == max.y {
                // A segment: densified along its length.
                let n = crs::DENSIFY_POINTS;
                (0..n)
                    .map(|k| {
                        let s = k as f64 / (n - 1) as f64;
                        Coord {
                            x: min.x + (max.x - min.x) * s,
                            y: min.y + (max.y - min.y) * s,
                        }
                    })
                    .collect()
            } else if t.is_identity() {
                Rect::new(min, max).to_polygon().exterior().0.clone()
            } else {
                let mut ring = crs::densified_outline(Rect::new(min, max), crs::DENSIFY_POINTS);
                ring.push(ring[0]);
                ring
            };
            t.coords(&mut coords)?;
            Ok(if min.x == max.x || min.y == max.y {
                Geometry::LineString(LineString(coords))
            } else {
                Geometry::Polygon(Polygon::new(LineString(coords), vec![]))
            })
        })
        .map_err(|e| self.crs_error(e))?;
        checked(g, text)
    }
}

fn checked(
    g: Geometry<f64>,
    text: &dyn Fn() -> String,
) -> Result<(Geometry<f64>, Rect<f64>), FilterError> {
    if let Some(reason) = crate::validate::check(&g) {
        return Err(FilterError::BadGeometry {
            literal: text(),
            reason: format!("{reason} (in the working CRS)"),
        });
    }
    let rect = g.bounding_rect().ok_or_else(|| FilterError::BadGeometry {
        literal: text(),
        reason: "the geometry is empty".into(),
    })?;
    Ok((g, rect))
}

/// Runs `f` with a transformer from `from` to `to` ([`crs::cached_transformer`]: created once
/// per thread and pair of CRSs).
fn with_transformer<T>(
    from: &str,
    to: &str,
    f: impl FnOnce(&Transformer) -> Result<T, CrsError>,
) -> Result<T, CrsError> {
    let t = crs::cached_transformer(from, to)?;
    f(&t)
}

/// Whether literals in `crs_name` come latitude / northing first ([`crs::northing_first`],
/// remembered per CRS).
fn axis_is_yx(crs_name: &str) -> Result<bool, CrsError> {
    if crs_name == crs::CRS84 {
        return Ok(false);
    }
    crs::northing_first(crs_name)
}
