//! Deterministic synthetic data over the province extent (EPSG:32632 x 545000..640000,
//! y 4985000..5040000): polygon zones that tile the extent, points, and road lines.
//!
//! Zones come from a jittered grid whose corners and edge vertices are shared by neighbours, so
//! they tile without gaps or overlaps; each zone has 8 to 30 vertices. Every 24th cell has a hole,
//! filled by an island zone of its own, so the zones still tile the extent.

use geo::{Coord, Geometry, LineString, Point, Polygon};
use territorio::feature::{Field, FieldType, Value};

pub const X0: f64 = 545_000.0;
pub const X1: f64 = 640_000.0;
pub const Y0: f64 = 4_985_000.0;
pub const Y1: f64 = 5_040_000.0;
/// The grid of the 100,000-zone benchmark layer: 400 x 240 cells (96,000 cells, 4,000 of them
/// with a hole, and the 4,000 islands that fill the holes).
pub const GRID_100K: Grid = Grid { nx: 400, ny: 240 };
/// The grid of the 1,000,000-zone layer (memory and start time at the next scale): 1,200 x 800
/// cells, the same extent with cells of about 79 x 69 m.
#[allow(dead_code)] // Each bench compiles this module; only benches/scale.rs writes these zones.
pub const GRID_1M: Grid = Grid { nx: 1200, ny: 800 };
const HOLE_EVERY: usize = 24;
pub const KINDS: [&str; 6] = [
    "industrial",
    "artisanal",
    "logistics",
    "commercial",
    "residential",
    "agricultural",
];

/// A stateless hash to a float in [0, 1): the same inputs always give the same jitter.
fn unit(a: u64, b: u64, c: u64) -> f64 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ c.wrapping_mul(0x1656_67B1_9E37_79F9);
    z ^= z >> 30;
    z = z.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^= z >> 27;
    z = z.wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// A small seeded generator for points and roads.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(1);
        unit(self.0, 0xA5A5, 0x5A5A)
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }
}

/// A grid of `nx` x `ny` cells over the extent, one zone per cell (plus the islands).
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    pub nx: usize,
    pub ny: usize,
}

impl Grid {
    fn cell_w(self) -> f64 {
        (X1 - X0) / self.nx as f64
    }

    fn cell_h(self) -> f64 {
        (Y1 - Y0) / self.ny as f64
    }

    /// Grid corner (i, j), jittered inside, exact on the outer border.
    fn corner(self, i: usize, j: usize) -> Coord<f64> {
        let (w, h) = (self.cell_w(), self.cell_h());
        let mut x = X0 + i as f64 * w;
        let mut y = Y0 + j as f64 * h;
        if i > 0 && i < self.nx {
            x += (unit(i as u64, j as u64, 1) - 0.5) * 0.4 * w;
        }
        if j > 0 && j < self.ny {
            y += (unit(i as u64, j as u64, 2) - 0.5) * 0.4 * h;
        }
        Coord { x, y }
    }

    /// Points of the edge from corner (i0,j0) to (i1,j1), excluding both corners, in that
    /// direction.
    fn edge(self, i0: usize, j0: usize, i1: usize, j1: usize) -> Vec<Coord<f64>> {
        // Canonical direction so both neighbours get the same points.
        let forward = (i0, j0) < (i1, j1);
        let (a, b) = if forward {
            ((i0, j0), (i1, j1))
        } else {
            ((i1, j1), (i0, j0))
        };
        let horizontal = a.1 == b.1;
        let border = if horizontal {
            a.1 == 0 || a.1 == self.ny
        } else {
            a.0 == 0 || a.0 == self.nx
        };
        let key = (a.0 as u64, a.1 as u64, if horizontal { 10 } else { 20 });
        let mut pts = edge_points(self.corner(a.0, a.1), self.corner(b.0, b.1), key, border);
        if !forward {
            pts.reverse();
        }
        pts
    }
}

/// The vertices strictly between corners a and b of an edge identified by `key`: 1 to 6 points,
/// nudged sideways a little (not on the outer border, which stays straight).
fn edge_points(
    a: Coord<f64>,
    b: Coord<f64>,
    key: (u64, u64, u64),
    border: bool,
) -> Vec<Coord<f64>> {
    let n = 1 + (unit(key.0, key.1, key.2) * 6.0) as usize;
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len = dx.hypot(dy);
    let (nx, ny) = (-dy / len, dx / len);
    (1..=n)
        .map(|k| {
            let t = k as f64 / (n + 1) as f64;
            let off = if border {
                0.0
            } else {
                (unit(key.0, key.1, key.2 + 100 + k as u64) - 0.5) * 0.06 * len
            };
            Coord {
                x: a.x + dx * t + nx * off,
                y: a.y + dy * t + ny * off,
            }
        })
        .collect()
}

fn octagon(c: Coord<f64>, r: f64, turn: f64) -> LineString<f64> {
    let mut pts: Vec<Coord<f64>> = (0..8)
        .map(|k| {
            let t = turn + k as f64 * std::f64::consts::TAU / 8.0;
            Coord {
                x: c.x + r * t.cos(),
                y: c.y + r * t.sin(),
            }
        })
        .collect();
    pts.push(pts[0]);
    LineString(pts)
}

/// The zone fields: `code` (integer) and `kind` (text).
pub fn zone_fields() -> Vec<Field> {
    vec![
        Field {
            name: "code".into(),
            ty: FieldType::Int,
        },
        Field {
            name: "kind".into(),
            ty: FieldType::String,
        },
    ]
}

/// The zones of `grid`: one per cell, every 24th with a hole filled by an island zone.
/// [`GRID_1M`] gives 960,000 cells and 40,000 islands: 1,000,000 zones.
pub fn zones_of(grid: Grid) -> Vec<(Geometry<f64>, Vec<Value>)> {
    let (nx, ny) = (grid.nx, grid.ny);
    let (corner, edge) = (|i, j| grid.corner(i, j), |a, b, c, d| grid.edge(a, b, c, d));
    let (w, h) = (grid.cell_w(), grid.cell_h());
    let mut out = Vec::with_capacity(nx * ny + nx * ny / HOLE_EVERY);
    let mut islands = Vec::new();
    for j in 0..ny {
        for i in 0..nx {
            let mut ring = vec![corner(i, j)];
            ring.extend(edge(i, j, i + 1, j));
            ring.push(corner(i + 1, j));
            ring.extend(edge(i + 1, j, i + 1, j + 1));
            ring.push(corner(i + 1, j + 1));
            ring.extend(edge(i + 1, j + 1, i, j + 1));
            ring.push(corner(i, j + 1));
            ring.extend(edge(i, j + 1, i, j));
            ring.push(ring[0]);
            let cell = j * nx + i;
            let mut holes = Vec::new();
            if cell % HOLE_EVERY == 0 {
                let c = Coord {
                    x: X0 + (i as f64 + 0.5) * w,
                    y: Y0 + (j as f64 + 0.5) * h,
                };
                let hole = octagon(c, 0.15 * w.min(h), unit(i as u64, j as u64, 7));
                islands.push(Polygon::new(hole.clone(), vec![]));
                holes.push(hole);
            }
            out.push(Polygon::new(LineString(ring), holes));
        }
    }
    out.extend(islands);
    out.into_iter()
        .enumerate()
        .map(|(k, p)| {
            let kind = KINDS[(unit(k as u64, 3, 3) * KINDS.len() as f64) as usize];
            (
                Geometry::Polygon(p),
                vec![Value::Int(k as i64 + 1), Value::String(kind.into())],
            )
        })
        .collect()
}

/// Writes the zones of `grid` to the GeoPackage `path` (layer `zones`, EPSG:32632), through a
/// temporary file renamed at the end, so that an interrupted run leaves no half-written file.
pub fn write_zones(path: &std::path::Path, grid: Grid) {
    use territorio::sink::{self, LayerGeometry, NewLayer};
    let features = zones_of(grid);
    let tmp = path.with_extension("tmp.gpkg");
    let _ = std::fs::remove_file(&tmp);
    sink::write_layer(
        &tmp,
        "GPKG",
        &NewLayer {
            name: "zones",
            crs: "EPSG:32632",
            geometry: LayerGeometry::Polygon,
            fields: &zone_fields(),
            options: &[],
        },
        &features,
    )
    .expect("writing the synthetic zones");
    std::fs::rename(&tmp, path).expect("renaming the synthetic zones");
}

/// Random points in the extent.
pub fn points(n: usize, seed: u64) -> Vec<Point<f64>> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| Point::new(rng.range(X0, X1), rng.range(Y0, Y1)))
        .collect()
}

/// Road-like polylines: 2 to 6 segments of 100 to 800 m, turning gently.
pub fn roads(n: usize, seed: u64) -> Vec<Geometry<f64>> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let mut p = Coord {
                x: rng.range(X0, X1),
                y: rng.range(Y0, Y1),
            };
            let mut heading = rng.range(0.0, std::f64::consts::TAU);
            let segments = 2 + (rng.f64() * 5.0) as usize;
            let mut pts = vec![p];
            for _ in 0..segments {
                heading += rng.range(-0.5, 0.5);
                let len = rng.range(100.0, 800.0);
                p = Coord {
                    x: p.x + len * heading.cos(),
                    y: p.y + len * heading.sin(),
                };
                pts.push(p);
            }
            Geometry::LineString(LineString(pts))
        })
        .collect()
}
