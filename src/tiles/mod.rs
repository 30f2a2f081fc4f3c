//! Vector tiles of a layer in the WebMercatorQuad tile matrix set (EPSG:3857, 256-pixel tiles,
//! zoom 0 one tile for the world), encoded as Mapbox Vector Tiles 2.1 ([`mvt`]).
//!
//! Cutting tile z/x/y of a layer ([`cut`]):
//! 1. the tile's box in EPSG:3857 ([`mercator_bounds`]), grown by a buffer of [`BUFFER`] of
//!    [`mvt::EXTENT`] units on each side, is cut to the layer's extent moved to EPSG:3857 (a
//!    tile of zoom 0 spans the world, which the working CRS cannot represent); the rest is
//!    moved to the working CRS as a densified outline ([`crate::crs::Transformer::bounds`]),
//!    never as two corners;
//! 2. the layer's R-tree gives the candidates in that box ([`Layer::candidates`]); with a
//!    CQL2 filter ([`Filter`]), only the candidates it matches go on (the filter is evaluated
//!    on the feature before any geometry work);
//! 3. each candidate is moved to EPSG:3857 with PROJ (once per feature: the layer keeps the
//!    moved geometry, [`Layer::moved`]), then to tile units (x right, y down);
//! 4. clipped to the buffered tile: points by a test, lines and polygons by geo's boolean
//!    operations (skipped when the geometry lies inside the box already);
//! 5. simplified (Ramer-Douglas-Peucker, tolerance [`SIMPLIFY`] tile units), quantised to
//!    integers, repeated points removed; a part that simplification collapses is quantised
//!    again unsimplified, and parts that collapse still (a line of one point, a ring of fewer
//!    than three points or of no area) are dropped, a polygon whose exterior collapses is
//!    dropped with its holes;
//! 6. rings wound as MVT 2.1 requires: exterior rings of positive area by the surveyor's
//!    formula in tile coordinates (clockwise on screen, y down), holes negative.
//!
//! A tile with no feature left is `None`: the API answers it `204 No Content`.
//!
//! Tiles of several layers are one tile: an MVT tile is a protobuf message whose only field is
//! the repeated `layers`, and concatenated encodings of a repeated field decode as the
//! concatenation of their elements, so the tile of a catalogue is the bytes of its layers'
//! tiles one after the other ([`concat()`]).
//!
//! The tile matrix set itself ([`TileMatrix::of`]): at zoom z, 2^z × 2^z tiles of 256 × 256
//! cells, each cell 2π·6378137 / (256·2^z) metres of EPSG:3857 at the origin, and a scale
//! denominator of that over the standardised rendering pixel size of 0.28 mm (OGC 2D Tile
//! Matrix Set 2.0).
//!
//! [`cache`] keeps encoded tiles in a size-bounded LRU.
//! Geometry collections are left out of tiles (MVT has one geometry type per feature).
//!
//! Cost: O(log n + k) for the R-tree query with k candidates, then O(v log v) per candidate
//! of v vertices for reprojection and clipping (O(v) when no clipping is needed) and
//! O(v log v) for simplification.

pub mod cache;
pub mod mvt;

use geo::{
    BooleanOps, BoundingRect, Coord, Geometry, Intersects, LineString, MultiLineString,
    MultiPolygon, Polygon, Rect,
};

use crate::analysis::within_distance::segment_distance_2;
use crate::crs::{self, CrsError};
use crate::feature::rect_union;
use crate::filter::Filter;
use crate::store::Layer;
use mvt::{LayerBuilder, TileGeometry, EXTENT};

/// The largest zoom level served.
pub const MAX_ZOOM: u8 = 22;

/// The buffer around a tile that clipped geometries keep, in tile units (of [`mvt::EXTENT`]),
/// so that lines and polygon edges do not end visibly at tile edges.
pub const BUFFER: f64 = 64.0;

/// Simplification tolerance in tile units (a sixteenth of a 256-pixel tile's pixel).
pub const SIMPLIFY: f64 = 1.0;

/// Half the width of the EPSG:3857 square (metres): π × 6378137.
pub const MERCATOR_HALF: f64 = 20_037_508.342_789_244;

/// The CRS of the tile matrix set.
pub const MERCATOR_CRS: &str = "EPSG:3857";

/// The side of a tile in cells (pixels of the standardised renderer).
pub const TILE_SIZE: u32 = 256;

/// The standardised rendering pixel size of OGC tile matrix sets, metres.
pub const PIXEL_SIZE: f64 = 0.000_28;

/// One tile matrix (zoom level) of WebMercatorQuad.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileMatrix {
    pub z: u8,
    /// Tiles per row and per column: 2^z.
    pub matrix_size: u64,
    /// The side of a cell in EPSG:3857 metres.
    pub cell_size: f64,
    /// The cell size over [`PIXEL_SIZE`].
    pub scale_denominator: f64,
}

impl TileMatrix {
    /// The tile matrix of zoom `z` (at most [`MAX_ZOOM`]).
    ///
    /// ```
    /// use territorio::tiles::TileMatrix;
    /// // Zoom 0: 40075016.686 m over 256 cells.
    /// let m = TileMatrix::of(0);
    /// assert!((m.cell_size - 156_543.033_928).abs() < 1e-3);
    /// assert!((m.scale_denominator - 559_082_264.029).abs() < 1e-2);
    /// ```
    pub fn of(z: u8) -> TileMatrix {
        let matrix_size = 1u64 << z;
        let cell_size = 2.0 * MERCATOR_HALF / (f64::from(TILE_SIZE) * matrix_size as f64);
        TileMatrix {
            z,
            matrix_size,
            cell_size,
            scale_denominator: cell_size / PIXEL_SIZE,
        }
    }
}

/// The tiles of several layers as one tile (see the module documentation).
pub fn concat<'a>(tiles: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for t in tiles {
        out.extend_from_slice(t);
    }
    out
}

/// A tile of WebMercatorQuad: zoom `z`, column `x` (from the west), row `y` (from the north).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

/// Errors of tile addressing and cutting.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    #[error("zoom level {0} is outside 0..={MAX_ZOOM}")]
    Zoom(u32),
    #[error("tile column {x} is outside 0..{n} at zoom {z}")]
    Column { z: u8, x: u32, n: u64 },
    #[error("tile row {y} is outside 0..{n} at zoom {z}")]
    Row { z: u8, y: u32, n: u64 },
    #[error("moving the tile or its features between CRSs: {0}")]
    Crs(#[from] CrsError),
}

impl TileId {
    /// The tile, checked against the tile matrix set: zoom up to [`MAX_ZOOM`], column and row
    /// below 2^z.
    pub fn new(z: u32, x: u32, y: u32) -> Result<TileId, TileError> {
        if z > u32::from(MAX_ZOOM) {
            return Err(TileError::Zoom(z));
        }
        let z = z as u8;
        let n = 1u64 << z;
        if u64::from(x) >= n {
            return Err(TileError::Column { z, x, n });
        }
        if u64::from(y) >= n {
            return Err(TileError::Row { z, y, n });
        }
        Ok(TileId { z, x, y })
    }

    /// The side of the tile in EPSG:3857 metres.
    pub fn size(&self) -> f64 {
        2.0 * MERCATOR_HALF / (1u64 << self.z) as f64
    }
}

/// The box of a tile in EPSG:3857.
///
/// ```
/// use territorio::tiles::{mercator_bounds, TileId, MERCATOR_HALF};
/// // Zoom 1, column 0, row 1: the south-west quarter of the world.
/// let r = mercator_bounds(TileId::new(1, 0, 1).unwrap());
/// assert_eq!((r.min().x, r.min().y), (-MERCATOR_HALF, -MERCATOR_HALF));
/// assert_eq!((r.max().x, r.max().y), (0.0, 0.0));
/// ```
pub fn mercator_bounds(tile: TileId) -> Rect<f64> {
    let size = tile.size();
    let min_x = -MERCATOR_HALF + f64::from(tile.x) * size;
    let max_y = MERCATOR_HALF - f64::from(tile.y) * size;
    Rect::new(
        Coord {
            x: min_x,
            y: max_y - size,
        },
        Coord {
            x: min_x + size,
            y: max_y,
        },
    )
}

/// The columns and rows of zoom `z` that a box in EPSG:3857 touches: (min column, min row,
/// max column, max row), clamped to the matrix.
///
/// ```
/// use territorio::tiles::{tile_range, MERCATOR_HALF};
/// use geo::{coord, Rect};
/// // A box just east and north of the origin: at zoom 1 the north-east tile (column 1, row 0).
/// let r = Rect::new(coord! {x: 10.0, y: 10.0}, coord! {x: 20.0, y: 20.0});
/// assert_eq!(tile_range(r, 1), (1, 0, 1, 0));
/// // The whole world at zoom 2: every one of the 4 x 4 tiles.
/// let w = Rect::new(coord! {x: -MERCATOR_HALF, y: -MERCATOR_HALF},
///                   coord! {x: MERCATOR_HALF, y: MERCATOR_HALF});
/// assert_eq!(tile_range(w, 2), (0, 0, 3, 3));
/// ```
pub fn tile_range(mercator: Rect<f64>, z: u8) -> (u32, u32, u32, u32) {
    let n = 1u64 << z;
    let size = 2.0 * MERCATOR_HALF / n as f64;
    let last = (n - 1) as f64;
    let col = |x: f64| ((x + MERCATOR_HALF) / size).floor().clamp(0.0, last) as u32;
    let row = |y: f64| ((MERCATOR_HALF - y) / size).floor().clamp(0.0, last) as u32;
    (
        col(mercator.min().x),
        row(mercator.max().y),
        col(mercator.max().x),
        row(mercator.min().y),
    )
}

/// The box of a tile grown by `units` tile units on each side, in EPSG:3857.
fn buffered(tile: TileId, units: f64) -> Rect<f64> {
    let r = mercator_bounds(tile);
    let d = tile.size() * units / f64::from(EXTENT);
    Rect::new(
        Coord {
            x: r.min().x - d,
            y: r.min().y - d,
        },
        Coord {
            x: r.max().x + d,
            y: r.max().y + d,
        },
    )
}

/// The part of the buffered tile where the layer has data, in the working CRS; `None` when
/// the tile misses the layer's extent.
pub fn working_bounds(
    layer: &Layer,
    working_crs: &str,
    tile: TileId,
) -> Result<Option<Rect<f64>>, TileError> {
    let Some(extent) = layer.extent() else {
        return Ok(None);
    };
    let to_mercator = crs::cached_transformer(working_crs, MERCATOR_CRS)?;
    let extent = to_mercator.bounds(extent)?;
    let tile_box = buffered(tile, BUFFER);
    if !extent.intersects(&tile_box) {
        return Ok(None);
    }
    // A hair more than the extent, so that rounding in the way back loses no edge.
    let pad = 1.0;
    let part = Rect::new(
        Coord {
            x: tile_box.min().x.max(extent.min().x - pad),
            y: tile_box.min().y.max(extent.min().y - pad),
        },
        Coord {
            x: tile_box.max().x.min(extent.max().x + pad),
            y: tile_box.max().y.min(extent.max().y + pad),
        },
    );
    let to_working = crs::cached_transformer(MERCATOR_CRS, working_crs)?;
    Ok(Some(to_working.bounds(part)?))
}

/// The tile `tile` of `layer` as an MVT with one layer named after it, with only the
/// features `filter` matches when there is one (compiled for this layer); `None` when no
/// feature is left in it. See the module documentation for the steps and their cost.
pub fn cut(
    layer: &Layer,
    working_crs: &str,
    tile: TileId,
    filter: Option<&Filter>,
) -> Result<Option<Vec<u8>>, TileError> {
    let Some(query) = working_bounds(layer, working_crs, tile)? else {
        return Ok(None);
    };
    let mut positions: Vec<u32> = match filter {
        None => layer.candidates(&query).collect(),
        Some(f) => layer
            .candidates(&query)
            .filter(|&i| f.matches(&layer.features[i as usize]))
            .collect(),
    };
    // Features in layer order: the same tile is the same bytes.
    positions.sort_unstable();
    let to_mercator = crs::cached_transformer(working_crs, MERCATOR_CRS)?;
    let bounds = mercator_bounds(tile);
    let scale = f64::from(EXTENT) / tile.size();
    // EPSG:3857 to tile units: x right from the tile's west edge, y down from its north edge.
    let to_tile = Affine {
        x0: bounds.min().x,
        y0: bounds.max().y,
        sx: scale,
        sy: -scale,
    };
    let clip_box = buffered(tile, BUFFER);
    let mut out = LayerBuilder::new(layer.id());
    let mut scratch = Scratch::default();
    for pos in positions {
        let feature = &layer.features[pos as usize];
        let g = layer.moved(pos as usize, &to_mercator)?;
        let commands = out.next_geometry();
        let Some(kind) = write_geometry(&g, &clip_box, &to_tile, &mut scratch, commands) else {
            continue;
        };
        let properties = layer
            .fields
            .iter()
            .zip(&feature.values)
            .map(|(f, v)| (f.name.as_str(), v));
        out.add_written(&feature.id, properties, kind);
    }
    Ok((!out.is_empty()).then(|| out.encode()))
}

/// A geometry in (unquantised) tile units, clipped to `clip_box`, simplified and quantised;
/// `None` when nothing of it is left.
pub fn tile_geometry(g: &Geometry<f64>, clip_box: &Rect<f64>) -> Option<TileGeometry> {
    let mut collected = Collected(None);
    let mut scratch = Scratch::default();
    write_geometry(g, clip_box, &Affine::IDENTITY, &mut scratch, &mut collected)?;
    collected.0
}

/// [`tile_geometry_in`] written as MVT commands; the MVT geometry type (1 point, 2 line,
/// 3 polygon), or `None` when nothing of the geometry is left (and nothing was written).
fn write_geometry(
    g: &Geometry<f64>,
    clip_box: &Rect<f64>,
    to: &Affine,
    scratch: &mut Scratch,
    parts: &mut dyn Parts,
) -> Option<i32> {
    let kind = match g {
        Geometry::Point(_) | Geometry::MultiPoint(_) => 1,
        Geometry::Line(_) | Geometry::LineString(_) | Geometry::MultiLineString(_) => 2,
        Geometry::Polygon(_)
        | Geometry::MultiPolygon(_)
        | Geometry::Rect(_)
        | Geometry::Triangle(_) => 3,
        Geometry::GeometryCollection(_) => return None,
    };
    (tile_geometry_in(g, clip_box, to, scratch, parts) > 0).then_some(kind)
}

/// Where [`tile_geometry_in`] writes a geometry in tile integers, part by part.
trait Parts {
    /// The points of a point geometry, all at once.
    fn points(&mut self, points: &[[i32; 2]]);
    /// A line of two points or more.
    fn line(&mut self, line: &[[i32; 2]]);
    /// A ring, open and wound for MVT; an exterior ring begins a polygon, holes follow it.
    fn ring(&mut self, ring: &[[i32; 2]], exterior: bool);
}

impl Parts for mvt::Commands {
    fn points(&mut self, points: &[[i32; 2]]) {
        mvt::Commands::points(self, points);
    }
    fn line(&mut self, line: &[[i32; 2]]) {
        mvt::Commands::line(self, line);
    }
    fn ring(&mut self, ring: &[[i32; 2]], _exterior: bool) {
        mvt::Commands::ring(self, ring);
    }
}

/// The parts gathered into a [`TileGeometry`].
struct Collected(Option<TileGeometry>);

impl Parts for Collected {
    fn points(&mut self, points: &[[i32; 2]]) {
        self.0 = Some(TileGeometry::Points(points.to_vec()));
    }
    fn line(&mut self, line: &[[i32; 2]]) {
        match &mut self.0 {
            Some(TileGeometry::Lines(lines)) => lines.push(line.to_vec()),
            _ => self.0 = Some(TileGeometry::Lines(vec![line.to_vec()])),
        }
    }
    fn ring(&mut self, ring: &[[i32; 2]], exterior: bool) {
        match (&mut self.0, exterior) {
            (Some(TileGeometry::Polygons(polygons)), false) => {
                if let Some(last) = polygons.last_mut() {
                    last.push(ring.to_vec());
                }
            }
            (Some(TileGeometry::Polygons(polygons)), true) => polygons.push(vec![ring.to_vec()]),
            _ => self.0 = Some(TileGeometry::Polygons(vec![vec![ring.to_vec()]])),
        }
    }
}

/// Buffers reused from one geometry to the next: which points simplification keeps, and the
/// current part in tile integers.
#[derive(Default)]
struct Scratch {
    keep: Vec<bool>,
    chords: Vec<(usize, usize)>,
    part: Vec<[i32; 2]>,
}

/// From a CRS to tile units: `((x - x0) * sx, (y - y0) * sy)`, with `|sx| == |sy|` (so that
/// distances scale by `|sx|`).
#[derive(Debug, Clone, Copy)]
struct Affine {
    x0: f64,
    y0: f64,
    sx: f64,
    sy: f64,
}

impl Affine {
    /// Coordinates already in tile units.
    const IDENTITY: Affine = Affine {
        x0: 0.0,
        y0: 0.0,
        sx: 1.0,
        sy: 1.0,
    };

    fn apply(&self, c: Coord<f64>) -> Coord<f64> {
        Coord {
            x: (c.x - self.x0) * self.sx,
            y: (c.y - self.y0) * self.sy,
        }
    }
}

/// [`tile_geometry`] of a geometry in another CRS, clipped to `clip_box` in that CRS and moved
/// to tile units by `to` as it is quantised, written part by part into `out`; the number of
/// parts written. A geometry inside the box is read where it is, not copied; only one that
/// crosses the box's edge is cut into a new one.
fn tile_geometry_in(
    g: &Geometry<f64>,
    clip_box: &Rect<f64>,
    to: &Affine,
    scratch: &mut Scratch,
    out: &mut dyn Parts,
) -> usize {
    let inside = |c: &Coord<f64>| {
        c.x >= clip_box.min().x
            && c.x <= clip_box.max().x
            && c.y >= clip_box.min().y
            && c.y <= clip_box.max().y
    };
    let within = |r: Option<Rect<f64>>| r.is_some_and(|r| inside(&r.min()) && inside(&r.max()));
    let points =
        |cs: &mut dyn Iterator<Item = Coord<f64>>, scratch: &mut Scratch, out: &mut dyn Parts| {
            scratch.part.clear();
            scratch
                .part
                .extend(cs.filter(inside).map(|c| quantise(to.apply(c))));
            if scratch.part.is_empty() {
                return 0;
            }
            out.points(&scratch.part);
            1
        };
    let lines = |parts: &[LineString<f64>], scratch: &mut Scratch, out: &mut dyn Parts| {
        let mut written = 0;
        for l in parts {
            if line_part(l, to, scratch) {
                out.line(&scratch.part);
                written += 1;
            }
        }
        written
    };
    let clipped_lines = |parts: &[LineString<f64>], scratch: &mut Scratch, out: &mut dyn Parts| {
        let r = parts
            .iter()
            .filter_map(|l| l.bounding_rect())
            .reduce(rect_union);
        if within(r) {
            lines(parts, scratch, out)
        } else {
            let cut = clip_box
                .to_polygon()
                .clip(&MultiLineString(parts.to_vec()), false);
            lines(&cut.0, scratch, out)
        }
    };
    let polygons = |parts: &[Polygon<f64>], scratch: &mut Scratch, out: &mut dyn Parts| {
        parts
            .iter()
            .map(|p| polygon_part(p, to, scratch, out))
            .sum()
    };
    let clipped_polygons = |parts: &[Polygon<f64>],
                            r: Option<Rect<f64>>,
                            scratch: &mut Scratch,
                            out: &mut dyn Parts| {
        if within(r) {
            polygons(parts, scratch, out)
        } else {
            let cut = MultiPolygon(parts.to_vec())
                .intersection(&MultiPolygon(vec![clip_box.to_polygon()]));
            polygons(&cut.0, scratch, out)
        }
    };
    match g {
        Geometry::Point(p) => points(&mut std::iter::once(p.0), scratch, out),
        Geometry::MultiPoint(mp) => points(&mut mp.0.iter().map(|p| p.0), scratch, out),
        Geometry::Line(l) => clipped_lines(&[LineString(vec![l.start, l.end])], scratch, out),
        Geometry::LineString(l) => clipped_lines(std::slice::from_ref(l), scratch, out),
        Geometry::MultiLineString(m) => clipped_lines(&m.0, scratch, out),
        Geometry::Polygon(p) => {
            clipped_polygons(std::slice::from_ref(p), p.bounding_rect(), scratch, out)
        }
        Geometry::MultiPolygon(m) => clipped_polygons(&m.0, m.bounding_rect(), scratch, out),
        Geometry::Rect(r) => clipped_polygons(&[r.to_polygon()], Some(*r), scratch, out),
        Geometry::Triangle(t) => {
            clipped_polygons(&[t.to_polygon()], t.bounding_rect().into(), scratch, out)
        }
        Geometry::GeometryCollection(_) => 0,
    }
}

fn quantise(c: Coord<f64>) -> [i32; 2] {
    [c.x.round() as i32, c.y.round() as i32]
}

/// Marks in `scratch.keep` the points of a line that Ramer-Douglas-Peucker keeps with
/// `tolerance`, in the line's own units (see [`quantise_into`] for the decisions).
fn mark_kept(points: &[Coord<f64>], min: usize, tolerance: f64, scratch: &mut Scratch) {
    let n = points.len();
    let keep = &mut scratch.keep;
    keep.clear();
    keep.resize(n, n < 3);
    if n < 3 {
        return;
    }
    keep[0] = true;
    keep[n - 1] = true;
    let tolerance2 = tolerance * tolerance;
    let mut left = n;
    // Chords to look at, the next on top.
    let chords = &mut scratch.chords;
    chords.clear();
    chords.push((0, n - 1));
    while let Some((a, b)) = chords.pop() {
        if b <= a + 1 {
            continue;
        }
        let (mut far, mut far_d2) = (a + 1, -1.0);
        for (i, p) in points.iter().enumerate().take(b).skip(a + 1) {
            let d2 = segment_distance_2(*p, points[a], points[b]);
            if d2 >= far_d2 {
                (far, far_d2) = (i, d2);
            }
        }
        if far_d2 > tolerance2 {
            keep[far] = true;
            chords.push((far, b));
            chords.push((a, far));
        } else if left - (b - a - 1) < min {
            keep[a..=b].iter_mut().for_each(|k| *k = true);
        } else {
            left -= b - a - 1;
        }
    }
}

/// The points of `line` simplified (Ramer-Douglas-Peucker, tolerance `tolerance` tile units:
/// [`SIMPLIFY`], or 0 to keep every point off a straight run), then quantised to integers
/// without consecutive repeats.
///
/// As geo's `Simplify` decides: the farthest point from a chord (the last of equals) splits it
/// when it is farther than the tolerance; otherwise the points between go, unless that would
/// leave fewer than `min` points in all (4 for a ring, 2 for a line), and then the chord keeps
/// them. Chords are taken first to last, as a recursion would. The distance of a point to a
/// chord is its distance to the segment, compared squared with the tolerance squared (no
/// square root per point); the kept points are marked, then written once.
fn quantise_into(
    line: &LineString<f64>,
    min: usize,
    to: &Affine,
    tolerance: f64,
    scratch: &mut Scratch,
) {
    let points = &line.0;
    // The tolerance in the line's own units (the scale is the same on both axes).
    mark_kept(points, min, tolerance / to.sx.abs(), scratch);
    let keep = &scratch.keep;
    let v = &mut scratch.part;
    v.clear();
    for (c, _) in points.iter().zip(keep.iter()).filter(|(_, k)| **k) {
        let q = quantise(to.apply(*c));
        if v.last() != Some(&q) {
            v.push(q);
        }
    }
}

/// A line in tile integers, in `scratch.part`; false when it collapses to a point.
///
/// A line that simplification collapses but quantisation alone does not (a short line that
/// turns back on itself) is kept unsimplified: simplification takes away detail, never a
/// feature that still has a shape at the tile's resolution.
fn line_part(line: &LineString<f64>, to: &Affine, scratch: &mut Scratch) -> bool {
    quantise_into(line, 2, to, SIMPLIFY, scratch);
    if scratch.part.len() >= 2 {
        return true;
    }
    quantise_into(line, 2, to, 0.0, scratch);
    scratch.part.len() >= 2
}

/// Twice the signed area of a ring (surveyor's formula), positive for an MVT exterior ring.
pub fn ring_area2(ring: &[[i32; 2]]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
        })
        .sum()
}

/// A ring in tile integers, in `scratch.part`, open, wound to the sign asked (`exterior`:
/// positive area); false when it has no area left.
///
/// A ring that simplification flattens (a small island whose few points fall within the
/// tolerance of the chord between two of them) but that still has area once quantised
/// without simplification is kept unsimplified, as PostGIS's `ST_AsMVTGeom` keeps it: a
/// feature leaves a tile only when the tile's grid cannot show it.
fn ring_part(ring: &LineString<f64>, exterior: bool, to: &Affine, scratch: &mut Scratch) -> bool {
    let open = |v: &mut Vec<[i32; 2]>| {
        if v.len() > 1 && v.first() == v.last() {
            v.pop();
        }
        if v.len() < 3 {
            0
        } else {
            ring_area2(v)
        }
    };
    quantise_into(ring, 4, to, SIMPLIFY, scratch);
    let mut area = open(&mut scratch.part);
    if area == 0 {
        quantise_into(ring, 4, to, 0.0, scratch);
        area = open(&mut scratch.part);
    }
    if area == 0 {
        return false;
    }
    if (area > 0) != exterior {
        scratch.part.reverse();
    }
    true
}

/// A polygon in tile integers written to `out`: its exterior ring then its holes; nothing
/// when the exterior collapses. The number of polygons written (0 or 1).
fn polygon_part(
    p: &Polygon<f64>,
    to: &Affine,
    scratch: &mut Scratch,
    out: &mut dyn Parts,
) -> usize {
    if !ring_part(p.exterior(), true, to, scratch) {
        return 0;
    }
    out.ring(&scratch.part, true);
    for hole in p.interiors() {
        if ring_part(hole, false, to, scratch) {
            out.ring(&scratch.part, false);
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coord, polygon};

    /// The points of `line` simplified and quantised, as a vector.
    fn quantised(line: &LineString<f64>, min: usize, to: &Affine, tolerance: f64) -> Vec<[i32; 2]> {
        let mut scratch = Scratch::default();
        quantise_into(line, min, to, tolerance, &mut scratch);
        scratch.part
    }

    fn ring(line: &LineString<f64>, exterior: bool) -> Option<Vec<[i32; 2]>> {
        let mut scratch = Scratch::default();
        ring_part(line, exterior, &Affine::IDENTITY, &mut scratch).then_some(scratch.part)
    }

    fn line(l: &LineString<f64>) -> Option<Vec<[i32; 2]>> {
        let mut scratch = Scratch::default();
        line_part(l, &Affine::IDENTITY, &mut scratch).then_some(scratch.part)
    }

    #[test]
    fn simplification_keeps_what_geo_keeps_and_quantises() {
        use geo::Simplify;
        // By hand: a zigzag of amplitude 0.4 units along a straight line goes (tolerance 1);
        // one of amplitude 3 stays.
        let flat = LineString::from(vec![
            (0.0, 0.0),
            (5.0, 0.4),
            (10.0, 0.0),
            (15.0, 0.4),
            (20.0, 0.0),
        ]);
        assert_eq!(
            quantised(&flat, 2, &Affine::IDENTITY, SIMPLIFY),
            vec![[0, 0], [20, 0]]
        );
        let sharp = LineString::from(vec![(0.0, 0.0), (5.0, 3.0), (10.0, 0.0)]);
        assert_eq!(
            quantised(&sharp, 2, &Affine::IDENTITY, SIMPLIFY),
            vec![[0, 0], [5, 3], [10, 0]]
        );
        // A ring keeps 4 points at least: a thin triangle does not fold to a line.
        let thin = LineString::from(vec![(0.0, 0.0), (10.0, 0.5), (20.0, 0.0), (0.0, 0.0)]);
        assert_eq!(
            quantised(&thin, 4, &Affine::IDENTITY, SIMPLIFY),
            vec![[0, 0], [10, 1], [20, 0], [0, 0]]
        );
        // Against geo's Ramer-Douglas-Peucker (then quantised) on seeded random walks, ring and
        // open, with steps of a fraction of a unit to tens of units.
        // SplitMix64, seeded: the same walks on every run.
        let mut state: u64 = 7;
        let mut uniform = |lo: f64, hi: f64| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            lo + (hi - lo) * (z >> 11) as f64 / (1u64 << 53) as f64
        };
        for case in 0..2_000 {
            let n = uniform(2.0, 60.0) as usize;
            let step = [0.3, 2.0, 40.0][case % 3];
            let (mut x, mut y) = (uniform(0.0, 4096.0), uniform(0.0, 4096.0));
            let mut coords = vec![Coord { x, y }];
            for _ in 1..n {
                x += uniform(-step, step);
                y += uniform(-step, step);
                coords.push(Coord { x, y });
            }
            if case % 2 == 0 {
                coords.push(coords[0]);
            }
            let line = LineString(coords);
            let ring = case % 2 == 0;
            let simplified = if ring {
                Polygon::new(line.clone(), vec![])
                    .simplify(SIMPLIFY)
                    .exterior()
                    .clone()
            } else {
                line.simplify(SIMPLIFY)
            };
            let mut by_geo: Vec<[i32; 2]> = Vec::new();
            for c in &simplified.0 {
                let q = quantise(*c);
                if by_geo.last() != Some(&q) {
                    by_geo.push(q);
                }
            }
            assert_eq!(
                quantised(&line, if ring { 4 } else { 2 }, &Affine::IDENTITY, SIMPLIFY),
                by_geo,
                "case {case}"
            );
        }
    }

    #[test]
    fn a_ring_that_simplification_flattens_is_kept_unsimplified() {
        // By hand: from the chord 0→4 (a ring's two ends are one point) the farthest point is
        // (20, 0); on the chord to it, (7, 0.6) and (14, 0.6) lie 0.6 from it, within the
        // tolerance of 1, and go (4 points stay); on the chord back, (10, -0.4) stays, as the
        // ring would fall under 4 points. Quantised, (0 0, 20 0, 10 0) has no area. Without
        // simplification the ring is (0 0, 7 1, 14 1, 20 0, 10 0): twice its signed area by
        // the surveyor's formula is 7·1 − 14·1 + 14·0 − 20·1 = −27, so as an exterior it is
        // reversed to +27.
        let island = LineString::from(vec![
            (0.0, 0.0),
            (7.0, 0.6),
            (14.0, 0.6),
            (20.0, 0.0),
            (10.0, -0.4),
            (0.0, 0.0),
        ]);
        assert_eq!(
            quantised(&island, 4, &Affine::IDENTITY, SIMPLIFY),
            vec![[0, 0], [20, 0], [10, 0], [0, 0]]
        );
        let kept = ring(&island, true).expect("the island has area");
        assert_eq!(kept, vec![[10, 0], [20, 0], [14, 1], [7, 1], [0, 0]]);
        assert_eq!(ring_area2(&kept), 27);
        // The same ring 0.4 off its chord has no area even unsimplified: it goes.
        let flat = LineString::from(vec![
            (0.0, 0.0),
            (7.0, 0.4),
            (14.0, 0.4),
            (20.0, 0.0),
            (10.0, -0.4),
            (0.0, 0.0),
        ]);
        assert_eq!(ring(&flat, true), None);
        // A line folded back on itself: (0.9, 0) lies 0.8 from the chord (0 0, 0.1 0) and
        // goes, and the chord quantises to one point; unsimplified it is 0 0, 1 0, 0 0.
        let hook = LineString::from(vec![(0.0, 0.0), (0.9, 0.0), (0.1, 0.0)]);
        assert_eq!(
            quantised(&hook, 2, &Affine::IDENTITY, SIMPLIFY),
            vec![[0, 0]]
        );
        assert_eq!(line(&hook), Some(vec![[0, 0], [1, 0], [0, 0]]));
    }

    #[test]
    fn cutting_in_the_source_crs_equals_cutting_in_tile_units() {
        // A polygon with a hole and a line, both crossing the buffered tile's edge, in a CRS
        // where the tile is x 1000..9192, y 2000..10192 (scale 0.5: exact in binary).
        let to = Affine {
            x0: 1000.0,
            y0: 10192.0,
            sx: 0.5,
            sy: -0.5,
        };
        let clip_here = Rect::new(
            coord! { x: 872.0, y: 1872.0 },
            coord! { x: 9320.0, y: 10320.0 },
        );
        let clip_tile = Rect::new(
            coord! { x: -64.0, y: -64.0 },
            coord! { x: 4160.0, y: 4160.0 },
        );
        let polygon = Geometry::Polygon(polygon!(
            exterior: [(x: 500.0, y: 3000.0), (x: 6000.0, y: 2500.0), (x: 7000.0, y: 9000.0), (x: 3001.0, y: 11000.0), (x: 500.0, y: 3000.0)],
            interiors: [[(x: 3000.0, y: 5000.0), (x: 4000.0, y: 5000.0), (x: 4000.0, y: 6000.0), (x: 3000.0, y: 5000.0)]],
        ));
        let line = Geometry::LineString(LineString::from(vec![
            (0.0, 0.0),
            (5000.0, 6000.0),
            (5003.0, 6001.0),
            (12000.0, 6000.0),
        ]));
        for g in [polygon, line] {
            let mut in_tile = g.clone();
            crs::for_each_coord_slice(&mut in_tile, &mut |cs| {
                cs.iter_mut().for_each(|c| *c = to.apply(*c))
            });
            // The boolean operations may start a ring at another vertex: compare rings from
            // their smallest vertex (same points, same order, same winding).
            let canonical = |t: Option<TileGeometry>| match t {
                Some(TileGeometry::Polygons(ps)) => Some(TileGeometry::Polygons(
                    ps.into_iter()
                        .map(|rings| {
                            rings
                                .into_iter()
                                .map(|mut r| {
                                    let at = (0..r.len()).min_by_key(|&i| r[i]).unwrap_or(0);
                                    r.rotate_left(at);
                                    r
                                })
                                .collect()
                        })
                        .collect(),
                )),
                other => other,
            };
            let expected = canonical(tile_geometry(&in_tile, &clip_tile));
            assert!(expected.is_some());
            let mut collected = Collected(None);
            write_geometry(&g, &clip_here, &to, &mut Scratch::default(), &mut collected);
            assert_eq!(canonical(collected.0), expected);
        }
    }

    #[test]
    fn tile_matrices_follow_the_formula() {
        // By hand: the equator is 2π × 6378137 = 40 075 016.686 m; zoom 0 spreads it over 256
        // cells, each zoom halves the cell; the scale denominator is the cell over 0.28 mm.
        let equator = 2.0 * std::f64::consts::PI * 6_378_137.0;
        assert!((equator - 40_075_016.685_578_5).abs() < 1e-6);
        for z in 0..=MAX_ZOOM {
            let m = TileMatrix::of(z);
            let cell = equator / 256.0 / 2f64.powi(i32::from(z));
            assert!((m.cell_size - cell).abs() <= cell * 1e-12, "zoom {z}");
            assert!(
                (m.scale_denominator - cell / 0.000_28).abs() <= cell * 1e-8,
                "zoom {z}"
            );
            assert_eq!(m.matrix_size, 1u64 << z);
        }
        // Zoom 0 and 18 as tabulated in the OGC 2D TMS standard's WebMercatorQuad (annex):
        // 559 082 264.028 7178 and 2 132.729 583 849 784.
        assert!((TileMatrix::of(0).scale_denominator - 559_082_264.028_717_8).abs() < 1e-4);
        assert!((TileMatrix::of(18).scale_denominator - 2_132.729_583_849_784).abs() < 1e-8);
        assert!((TileMatrix::of(18).cell_size - 0.597_164_283_477_939_5).abs() < 1e-12);
    }

    #[test]
    fn tile_bounds_cover_the_world_at_zoom_zero() {
        let r = mercator_bounds(TileId::new(0, 0, 0).unwrap());
        assert_eq!(r.min(), coord! {x: -MERCATOR_HALF, y: -MERCATOR_HALF});
        assert_eq!(r.max(), coord! {x: MERCATOR_HALF, y: MERCATOR_HALF});
        // Zoom 1, column 1, row 0: the north-east quarter.
        let r = mercator_bounds(TileId::new(1, 1, 0).unwrap());
        assert_eq!(r.min(), coord! {x: 0.0, y: 0.0});
        assert_eq!(r.max(), coord! {x: MERCATOR_HALF, y: MERCATOR_HALF});
        assert!(matches!(TileId::new(23, 0, 0), Err(TileError::Zoom(23))));
        assert!(matches!(
            TileId::new(2, 4, 0),
            Err(TileError::Column { .. })
        ));
        assert!(matches!(TileId::new(2, 0, 4), Err(TileError::Row { .. })));
    }

    #[test]
    fn polygons_are_clipped_to_the_buffer_and_wound_for_mvt() {
        let clip = Rect::new(coord! {x: -64.0, y: -64.0}, coord! {x: 4160.0, y: 4160.0});
        // A square in tile units running off the right edge, given counter-clockwise on
        // screen (negative area with y down), with a hole given positive.
        let p = polygon!(
            exterior: [(x: 100.0, y: 100.0), (x: 100.0, y: 9000.0), (x: 9000.0, y: 9000.0),
                (x: 9000.0, y: 100.0)],
            interiors: [[(x: 200.0, y: 200.0), (x: 300.0, y: 200.0), (x: 300.0, y: 300.0),
                (x: 200.0, y: 300.0)]],
        );
        let Some(TileGeometry::Polygons(ps)) = tile_geometry(&Geometry::Polygon(p), &clip) else {
            panic!("no polygon");
        };
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].len(), 2);
        assert!(ring_area2(&ps[0][0]) > 0);
        assert!(ring_area2(&ps[0][1]) < 0);
        // Clipped at the buffer: (100..4160)² less the hole's 100².
        assert_eq!(ring_area2(&ps[0][0]), 2 * 4060 * 4060);
        for c in ps[0].iter().flatten() {
            assert!((-64..=4160).contains(&c[0]) && (-64..=4160).contains(&c[1]));
        }
        // A sliver thinner than half a unit collapses and is dropped.
        let sliver = polygon![(x: 10.0, y: 10.0), (x: 10.2, y: 10.0), (x: 10.2, y: 500.0),
            (x: 10.0, y: 500.0)];
        assert_eq!(tile_geometry(&Geometry::Polygon(sliver), &clip), None);
    }

    #[test]
    fn lines_are_cut_at_the_buffer_and_points_outside_it_dropped() {
        let clip = Rect::new(coord! {x: -64.0, y: -64.0}, coord! {x: 4160.0, y: 4160.0});
        // A line across the tile and out at both sides, then back in: two pieces.
        let line = LineString::from(vec![
            (-1000.0, 100.0),
            (5000.0, 100.0),
            (5000.0, 300.0),
            (1000.0, 300.0),
        ]);
        let Some(TileGeometry::Lines(parts)) = tile_geometry(&Geometry::LineString(line), &clip)
        else {
            panic!("no line");
        };
        let mut parts = parts;
        parts.sort();
        assert_eq!(
            parts,
            vec![
                vec![[-64, 100], [4160, 100]],
                vec![[4160, 300], [1000, 300]]
            ]
        );
        let points = geo::MultiPoint::from(vec![(10.4, 20.6), (5000.0, 10.0)]);
        assert_eq!(
            tile_geometry(&Geometry::MultiPoint(points), &clip),
            Some(TileGeometry::Points(vec![[10, 21]]))
        );
    }
}
