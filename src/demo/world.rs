//! The demo world in the working CRS: the hand-drawn geography of [`super::geography`] moved to
//! EPSG:32632, and the shapes derived from it once (municipalities, urban and productive areas,
//! river belts, parks, Natura 2000 sites, corridors, agricultural land) that several layers and
//! the projects read. Each PTCP system's file adds the `World` methods that build its shapes.
//!
//! Every CRS transformation returns its error ([`DemoError::Crs`]); a name the tables use that
//! the geography lacks (a town, a river) is a [`DemoError::Geometry`].

use geo::{
    Area, BooleanOps, BoundingRect, Centroid, ChaikinSmoothing, Contains, Coord, Distance,
    Euclidean, Geometry, InteriorPoint, LineString, MultiPolygon, Point, Polygon,
};

use super::geography::{BORDER_RIVERS, OUTLINE, RIVERS, TOWNS};
use super::rng::Rng;
use super::{s, DemoError, Row, WORKING_CRS};
use crate::crs::{Transformer, CRS84};
use crate::feature::Value;

/// The demo world, built step by step from the hand-drawn geography.
pub(super) struct World {
    pub(super) to_utm: Transformer,
    pub(super) province: Polygon<f64>,
    /// The seats of [`TOWNS`], in the same order.
    pub(super) towns: Vec<Coord<f64>>,
    /// One cell per town, tiling the province.
    pub(super) municipalities: Vec<MultiPolygon<f64>>,
    pub(super) urban: Vec<MultiPolygon<f64>>,
    pub(super) rivers: Vec<(&'static str, LineString<f64>)>,
    pub(super) productive: Vec<Productive>,
    /// River, belt (A, B, C), shape.
    pub(super) belts: Vec<(&'static str, &'static str, MultiPolygon<f64>)>,
    /// Name, year established, shape.
    pub(super) parks: Vec<(&'static str, i64, MultiPolygon<f64>)>,
    /// Code, name, type (SIC/ZSC, ZPS), shape.
    pub(super) natura: Vec<(String, &'static str, &'static str, MultiPolygon<f64>)>,
    /// Name, level, shape.
    pub(super) corridors: Vec<(&'static str, &'static str, MultiPolygon<f64>)>,
    /// Code, class, town index, shape.
    pub(super) agricultural: Vec<(String, &'static str, usize, MultiPolygon<f64>)>,
}

/// A productive area of the settlement system.
pub(super) struct Productive {
    pub(super) code: String,
    pub(super) name: String,
    pub(super) kind: &'static str,
    pub(super) status: &'static str,
    pub(super) sovracomunale: bool,
    pub(super) town: usize,
    pub(super) shape: Polygon<f64>,
}

impl World {
    /// Moves the geography to the working CRS and derives every shape, drawing from
    /// [`Rng::geography`] in a fixed order: urban areas, productive areas, the environment,
    /// agricultural land.
    pub(super) fn new() -> Result<World, DemoError> {
        let to_utm = Transformer::new(CRS84, WORKING_CRS)?;
        let utm = |pts: &[(f64, f64)]| -> Result<Vec<Coord<f64>>, DemoError> {
            let mut c: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| Coord { x, y }).collect();
            to_utm.coords(&mut c)?;
            Ok(c)
        };
        let mut ring = utm(OUTLINE)?;
        ring.push(ring[0]);
        let province = Polygon::new(LineString(ring), vec![]);
        let towns = utm(&TOWNS.iter().map(|t| (t.lon, t.lat)).collect::<Vec<_>>())?;
        for (t, c) in TOWNS.iter().zip(&towns) {
            if !province.contains(&Point(*c)) {
                return Err(DemoError::Geometry(format!(
                    "{} lies outside the outline",
                    t.name
                )));
            }
        }
        let municipalities = voronoi(&towns, &province);
        let mut rivers = Vec::new();
        for (name, from, vertices, to) in BORDER_RIVERS {
            let mut course = vec![*from];
            course.extend(vertices.iter().map(|&i| OUTLINE[i]));
            course.push(*to);
            rivers.push((*name, LineString(utm(&course)?)));
        }
        for (name, course) in RIVERS {
            rivers.push((*name, LineString(utm(course)?).chaikin_smoothing(2)));
        }
        let mut world = World {
            to_utm,
            province,
            towns,
            municipalities,
            urban: Vec::new(),
            rivers,
            productive: Vec::new(),
            belts: Vec::new(),
            parks: Vec::new(),
            natura: Vec::new(),
            corridors: Vec::new(),
            agricultural: Vec::new(),
        };
        let mut rng = Rng::geography();
        world.urban = world.urban_areas(&mut rng);
        world.productive = world.productive_areas(&mut rng)?;
        world.environment(&mut rng)?;
        world.agricultural = world.agricultural_areas(&mut rng);
        Ok(world)
    }

    /// A CRS84 point in the working CRS.
    pub(super) fn utm_point(&self, lon: f64, lat: f64) -> Result<Coord<f64>, DemoError> {
        Ok(self.to_utm.coord(Coord { x: lon, y: lat })?)
    }

    /// CRS84 points in the working CRS.
    pub(super) fn utm_points(&self, pts: &[(f64, f64)]) -> Result<Vec<Coord<f64>>, DemoError> {
        let mut c: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| Coord { x, y }).collect();
        self.to_utm.coords(&mut c)?;
        Ok(c)
    }

    /// The part of `shape` inside the province.
    pub(super) fn clip(&self, shape: &MultiPolygon<f64>) -> MultiPolygon<f64> {
        MultiPolygon(vec![self.province.clone()]).intersection(shape)
    }

    /// The position of a town in [`TOWNS`].
    pub(super) fn town_index(name: &str) -> Result<usize, DemoError> {
        TOWNS
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| DemoError::Geometry(format!("no town {name:?} in the geography")))
    }

    /// The course of a river, by name.
    pub(super) fn river(&self, name: &str) -> Result<&LineString<f64>, DemoError> {
        self.rivers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, l)| l)
            .ok_or_else(|| DemoError::Geometry(format!("no river {name:?} in the geography")))
    }

    /// The municipality a point lies in; on a shared edge, the nearest seat's.
    pub(super) fn municipality_of(&self, p: Coord<f64>) -> &'static str {
        self.municipalities
            .iter()
            .position(|m| m.contains(&Point(p)))
            .map(|i| TOWNS[i].name)
            .unwrap_or_else(|| TOWNS[nearest_index(&self.towns, p)].name)
    }

    /// Point rows for services in towns: each at most `radius` metres from its town's seat, its
    /// values preceded by a code `PREFIXnn`.
    pub(super) fn near_towns<'a>(
        &self,
        prefix: &str,
        radius: f64,
        rng: &mut Rng,
        entries: impl Iterator<Item = (&'a str, Vec<Value>)>,
    ) -> Result<Vec<Row>, DemoError> {
        entries
            .enumerate()
            .map(|(i, (town, values))| {
                let c = self.near(Self::town_index(town)?, radius, rng);
                let mut row = vec![s(&format!("{prefix}{:02}", i + 1))];
                row.extend(values);
                Ok((Geometry::Point(Point(c)), row))
            })
            .collect()
    }

    /// A point within `radius` metres of town `i`'s seat, inside its municipality (the seat
    /// itself when 50 draws all fall outside).
    pub(super) fn near(&self, i: usize, radius: f64, rng: &mut Rng) -> Coord<f64> {
        let seat = self.towns[i];
        for _ in 0..50 {
            let (a, r) = (
                rng.range(0.0, std::f64::consts::TAU),
                radius * rng.f64().sqrt(),
            );
            let c = Coord {
                x: seat.x + r * a.cos(),
                y: seat.y + r * a.sin(),
            };
            if self.municipalities[i].contains(&Point(c)) {
                return c;
            }
        }
        seat
    }
}

/// Voronoi cells of `seeds`, clipped to `boundary`: each cell is the boundary's part closer to
/// its seed than to any other, so the cells tile the boundary.
fn voronoi(seeds: &[Coord<f64>], boundary: &Polygon<f64>) -> Vec<MultiPolygon<f64>> {
    let bbox = boundary
        .bounding_rect()
        .map(|r| r.to_polygon())
        .unwrap_or_else(|| boundary.clone());
    let outer = MultiPolygon(vec![boundary.clone()]);
    seeds
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut cell: Vec<Coord<f64>> = bbox.exterior().0.clone();
            cell.pop();
            for (j, o) in seeds.iter().enumerate() {
                if i != j {
                    cell = clip_half_plane(&cell, *s, *o);
                }
            }
            if cell.len() < 3 {
                return MultiPolygon(vec![]);
            }
            cell.push(cell[0]);
            outer.intersection(&MultiPolygon(vec![Polygon::new(LineString(cell), vec![])]))
        })
        .collect()
}

/// Keeps the part of a convex polygon (open ring) closer to `s` than to `o`.
fn clip_half_plane(ring: &[Coord<f64>], s: Coord<f64>, o: Coord<f64>) -> Vec<Coord<f64>> {
    let (nx, ny) = (o.x - s.x, o.y - s.y);
    let (mx, my) = ((o.x + s.x) / 2.0, (o.y + s.y) / 2.0);
    let side = |p: Coord<f64>| (p.x - mx) * nx + (p.y - my) * ny;
    let mut out = Vec::with_capacity(ring.len() + 1);
    for k in 0..ring.len() {
        let (p, q) = (ring[k], ring[(k + 1) % ring.len()]);
        let (sp, sq) = (side(p), side(q));
        if sp <= 0.0 {
            out.push(p);
        }
        if (sp <= 0.0) != (sq <= 0.0) {
            let t = sp / (sp - sq);
            out.push(Coord {
                x: p.x + t * (q.x - p.x),
                y: p.y + t * (q.y - p.y),
            });
        }
    }
    out
}

/// A star-shaped blob around `c`: `n` vertices at radius `r` ± `jitter`·r.
pub(super) fn blob(c: Coord<f64>, r: f64, jitter: f64, n: usize, rng: &mut Rng) -> Polygon<f64> {
    let turn = rng.range(0.0, std::f64::consts::TAU);
    let mut pts: Vec<Coord<f64>> = (0..n)
        .map(|k| {
            let a = turn + k as f64 * std::f64::consts::TAU / n as f64;
            let rr = r * (1.0 + rng.range(-jitter, jitter));
            Coord {
                x: c.x + rr * a.cos(),
                y: c.y + rr * a.sin(),
            }
        })
        .collect();
    pts.push(pts[0]);
    Polygon::new(LineString(pts), vec![])
}

/// A rectangle `w` × `h` centred on `c`, turned by `angle` radians.
pub(super) fn rectangle(c: Coord<f64>, w: f64, h: f64, angle: f64) -> Polygon<f64> {
    let (s, co) = angle.sin_cos();
    let p = |u: f64, v: f64| Coord {
        x: c.x + u * co - v * s,
        y: c.y + u * s + v * co,
    };
    let (a, b) = (w / 2.0, h / 2.0);
    Polygon::new(
        LineString(vec![p(-a, -b), p(a, -b), p(a, b), p(-a, b), p(-a, -b)]),
        vec![],
    )
}

/// The largest polygon of a multipolygon.
pub(super) fn largest(mp: MultiPolygon<f64>) -> Option<Polygon<f64>> {
    mp.0.into_iter()
        .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
}

/// The index of the point of `points` nearest to `p` (0 for an empty list).
fn nearest_index(points: &[Coord<f64>], p: Coord<f64>) -> usize {
    points
        .iter()
        .enumerate()
        .min_by(|(_, a), (_, b)| {
            Euclidean
                .distance(Point(**a), Point(p))
                .total_cmp(&Euclidean.distance(Point(**b), Point(p)))
        })
        .map(|(i, _)| i)
        .unwrap_or(0)
}

/// The representative point of a project geometry (for its municipality): a point itself, the
/// middle vertex of a line, an interior point of anything else.
pub(super) fn anchor(g: &Geometry<f64>) -> Result<Coord<f64>, DemoError> {
    match g {
        Geometry::Point(p) => Ok(p.0),
        Geometry::LineString(l) if !l.0.is_empty() => Ok(l.0[l.0.len() / 2]),
        other => other
            .interior_point()
            .or_else(|| other.centroid())
            .map(|p| p.0)
            .ok_or_else(|| DemoError::Geometry("an empty project geometry".to_string())),
    }
}
