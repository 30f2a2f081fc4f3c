//! A reader for the Well-Known Binary that GDAL exports, into geo-types, and a writer
//! ([`encode`]) for the store of edited layers, which keeps geometries as WKB: exact, compact,
//! and what SQLite tools and GDAL read.
//!
//! Reading WKB in one call per feature is much faster than walking a GDAL geometry point by
//! point, and it lets us see rings exactly as stored: geo-types closes rings when a polygon is
//! built, which would hide an unclosed ring, so ring problems are recorded here, before closing.
//!
//! Supported: Point, LineString, Polygon, MultiPoint, MultiLineString, MultiPolygon and
//! GeometryCollection, in 2D, Z, M and ZM (ISO and the older 0x80000000/0x40000000 flags);
//! Z and M are dropped. Curves and surfaces are refused with their type name.

use geo::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon,
};

/// A WKB decoding failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WkbError {
    #[error("truncated WKB")]
    Truncated,
    #[error("bad WKB byte order marker {0}")]
    ByteOrder(u8),
    #[error("unsupported geometry type {0} (curves and surfaces must be linearised first)")]
    Unsupported(String),
    #[error("geometry collections nested more than {MAX_DEPTH} deep")]
    TooDeep,
}

/// How deep geometry collections may nest (a guard against a stack overflow on hostile input).
pub const MAX_DEPTH: usize = 32;

/// A decoded geometry and the first structural problem seen in its rings, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub geometry: Geometry<f64>,
    pub ring_problem: Option<String>,
}

/// Decodes one WKB geometry.
pub fn decode(bytes: &[u8]) -> Result<Decoded, WkbError> {
    let mut r = Reader {
        bytes,
        pos: 0,
        little: true,
        ring_problem: None,
        depth: 0,
    };
    let geometry = r.geometry()?;
    Ok(Decoded {
        geometry,
        ring_problem: r.ring_problem,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    little: bool,
    ring_problem: Option<String>,
    depth: usize,
}

#[derive(Clone, Copy)]
struct Dims {
    extra: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], WkbError> {
        let end = self.pos.checked_add(N).ok_or(WkbError::Truncated)?;
        let slice = self.bytes.get(self.pos..end).ok_or(WkbError::Truncated)?;
        self.pos = end;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, WkbError> {
        let b = self.take::<4>()?;
        Ok(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn f64(&mut self) -> Result<f64, WkbError> {
        let b = self.take::<8>()?;
        Ok(if self.little {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }

    /// A count, refused when it could not fit in what is left (a corrupt count must not
    /// make us allocate gigabytes).
    fn count(&mut self, min_item_bytes: usize) -> Result<usize, WkbError> {
        let n = self.u32()? as usize;
        let left = self.bytes.len().saturating_sub(self.pos);
        if n.saturating_mul(min_item_bytes) > left {
            return Err(WkbError::Truncated);
        }
        Ok(n)
    }

    fn coord(&mut self, dims: Dims) -> Result<Coord<f64>, WkbError> {
        let x = self.f64()?;
        let y = self.f64()?;
        for _ in 0..dims.extra {
            self.f64()?;
        }
        Ok(Coord { x, y })
    }

    fn coords(&mut self, dims: Dims) -> Result<Vec<Coord<f64>>, WkbError> {
        let n = self.count(16 + 8 * dims.extra)?;
        // Exactly `n` (bounded by the bytes left, see `count`): a collect through `Result` would
        // grow the vector by doubling and keep up to twice the coordinates' memory for the
        // layer's life.
        let mut coords = Vec::with_capacity(n);
        for _ in 0..n {
            coords.push(self.coord(dims)?);
        }
        Ok(coords)
    }

    fn header(&mut self) -> Result<(u32, Dims), WkbError> {
        let [order] = self.take::<1>()?;
        self.little = match order {
            0 => false,
            1 => true,
            other => return Err(WkbError::ByteOrder(other)),
        };
        let raw = self.u32()?;
        let mut extra = 0;
        if raw & 0x8000_0000 != 0 {
            extra += 1;
        }
        if raw & 0x4000_0000 != 0 {
            extra += 1;
        }
        let iso = raw & 0x0FFF_FFFF;
        let (base, iso_dims) = (iso % 1000, iso / 1000);
        extra += match iso_dims {
            0 => 0,
            1 | 2 => 1,
            3 => 2,
            _ => return Err(WkbError::Unsupported(format!("code {raw}"))),
        };
        Ok((base, Dims { extra }))
    }

    fn ring(&mut self, dims: Dims, what: &str) -> Result<LineString<f64>, WkbError> {
        let coords = self.coords(dims)?;
        if self.ring_problem.is_none() {
            if coords.len() < 4 {
                self.ring_problem = Some(format!(
                    "{what} has {} points, a ring needs at least 4",
                    coords.len()
                ));
            } else if coords.first() != coords.last() {
                self.ring_problem = Some(format!("{what} is not closed"));
            }
        }
        Ok(LineString(coords))
    }

    fn polygon(&mut self, dims: Dims) -> Result<Polygon<f64>, WkbError> {
        let n = self.count(4)?;
        if n == 0 {
            return Ok(Polygon::new(LineString(vec![]), vec![]));
        }
        let exterior = self.ring(dims, "exterior ring")?;
        let mut interiors = Vec::with_capacity(n - 1);
        for i in 1..n {
            interiors.push(self.ring(dims, &format!("interior ring {i}"))?);
        }
        Ok(Polygon::new(exterior, interiors))
    }

    fn expect_part(&mut self, wanted: u32) -> Result<Dims, WkbError> {
        let (base, dims) = self.header()?;
        if base != wanted {
            return Err(WkbError::Unsupported(format!(
                "{} inside a multi-geometry of {}",
                type_name(base),
                type_name(wanted)
            )));
        }
        Ok(dims)
    }

    fn geometry(&mut self) -> Result<Geometry<f64>, WkbError> {
        let (base, dims) = self.header()?;
        Ok(match base {
            1 => Geometry::Point(Point(self.coord(dims)?)),
            2 => Geometry::LineString(LineString(self.coords(dims)?)),
            3 => Geometry::Polygon(self.polygon(dims)?),
            4 => {
                let n = self.count(21)?;
                let mut points = Vec::with_capacity(n);
                for _ in 0..n {
                    let d = self.expect_part(1)?;
                    points.push(Point(self.coord(d)?));
                }
                Geometry::MultiPoint(MultiPoint(points))
            }
            5 => {
                let n = self.count(9)?;
                let mut lines = Vec::with_capacity(n);
                for _ in 0..n {
                    let d = self.expect_part(2)?;
                    lines.push(LineString(self.coords(d)?));
                }
                Geometry::MultiLineString(MultiLineString(lines))
            }
            6 => {
                let n = self.count(9)?;
                let mut polygons = Vec::with_capacity(n);
                for _ in 0..n {
                    let d = self.expect_part(3)?;
                    polygons.push(self.polygon(d)?);
                }
                Geometry::MultiPolygon(MultiPolygon(polygons))
            }
            7 => {
                if self.depth >= MAX_DEPTH {
                    return Err(WkbError::TooDeep);
                }
                let n = self.count(5)?;
                let mut parts = Vec::with_capacity(n);
                self.depth += 1;
                for _ in 0..n {
                    parts.push(self.geometry()?);
                }
                self.depth -= 1;
                Geometry::GeometryCollection(GeometryCollection(parts))
            }
            other => return Err(WkbError::Unsupported(type_name(other).to_string())),
        })
    }
}

fn type_name(code: u32) -> &'static str {
    match code {
        1 => "Point",
        2 => "LineString",
        3 => "Polygon",
        4 => "MultiPoint",
        5 => "MultiLineString",
        6 => "MultiPolygon",
        7 => "GeometryCollection",
        8 => "CircularString",
        9 => "CompoundCurve",
        10 => "CurvePolygon",
        11 => "MultiCurve",
        12 => "MultiSurface",
        15 => "PolyhedralSurface",
        16 => "TIN",
        17 => "Triangle",
        _ => "unknown",
    }
}

/// Encodes a geometry as little-endian 2D ISO WKB. A `Line`, `Rect` or `Triangle` is written
/// as the LineString or Polygon it stands for. [`decode`] reads the result back exactly.
pub fn encode(geometry: &Geometry<f64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    write_geometry(&mut out, geometry);
    out
}

fn write_header(out: &mut Vec<u8>, kind: u32) {
    out.push(1);
    out.extend_from_slice(&kind.to_le_bytes());
}

fn write_count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn write_coords(out: &mut Vec<u8>, coords: &[geo::Coord<f64>]) {
    write_count(out, coords.len());
    for c in coords {
        out.extend_from_slice(&c.x.to_le_bytes());
        out.extend_from_slice(&c.y.to_le_bytes());
    }
}

fn write_polygon(out: &mut Vec<u8>, p: &geo::Polygon<f64>) {
    write_header(out, 3);
    write_count(out, 1 + p.interiors().len());
    write_coords(out, &p.exterior().0);
    for ring in p.interiors() {
        write_coords(out, &ring.0);
    }
}

fn write_geometry(out: &mut Vec<u8>, geometry: &Geometry<f64>) {
    match geometry {
        Geometry::Point(p) => {
            write_header(out, 1);
            out.extend_from_slice(&p.x().to_le_bytes());
            out.extend_from_slice(&p.y().to_le_bytes());
        }
        Geometry::Line(l) => {
            write_header(out, 2);
            write_coords(out, &[l.start, l.end]);
        }
        Geometry::LineString(ls) => {
            write_header(out, 2);
            write_coords(out, &ls.0);
        }
        Geometry::Polygon(p) => write_polygon(out, p),
        Geometry::Rect(r) => write_polygon(out, &r.to_polygon()),
        Geometry::Triangle(t) => write_polygon(out, &t.to_polygon()),
        Geometry::MultiPoint(mp) => {
            write_header(out, 4);
            write_count(out, mp.0.len());
            for p in &mp.0 {
                write_geometry(out, &Geometry::Point(*p));
            }
        }
        Geometry::MultiLineString(ml) => {
            write_header(out, 5);
            write_count(out, ml.0.len());
            for ls in &ml.0 {
                write_header(out, 2);
                write_coords(out, &ls.0);
            }
        }
        Geometry::MultiPolygon(mp) => {
            write_header(out, 6);
            write_count(out, mp.0.len());
            for p in &mp.0 {
                write_polygon(out, p);
            }
        }
        Geometry::GeometryCollection(gc) => {
            write_header(out, 7);
            write_count(out, gc.0.len());
            for g in &gc.0 {
                write_geometry(out, g);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le_polygon(rings: &[&[(f64, f64)]], code: u32, extra: usize) -> Vec<u8> {
        let mut b = vec![1u8];
        b.extend(code.to_le_bytes());
        b.extend((rings.len() as u32).to_le_bytes());
        for ring in rings {
            b.extend((ring.len() as u32).to_le_bytes());
            for (x, y) in *ring {
                b.extend(x.to_le_bytes());
                b.extend(y.to_le_bytes());
                for _ in 0..extra {
                    b.extend(7.0f64.to_le_bytes());
                }
            }
        }
        b
    }

    #[test]
    fn decodes_a_big_endian_point() {
        let mut b = vec![0u8];
        b.extend(1u32.to_be_bytes());
        b.extend(10.5f64.to_be_bytes());
        b.extend((-3.25f64).to_be_bytes());
        let d = decode(&b).unwrap();
        assert_eq!(d.geometry, Geometry::Point(Point::new(10.5, -3.25)));
    }

    #[test]
    fn drops_z_in_iso_and_flagged_forms() {
        let square: &[(f64, f64)] = &[(0., 0.), (1., 0.), (1., 1.), (0., 0.)];
        for (code, extra) in [(3u32, 0usize), (1003, 1), (3003, 2), (0x8000_0003, 1)] {
            let d = decode(&le_polygon(&[square], code, extra)).unwrap();
            let Geometry::Polygon(p) = d.geometry else {
                panic!("not a polygon")
            };
            assert_eq!(p.exterior().0.len(), 4, "code {code}");
            assert_eq!(p.exterior().0[1], Coord { x: 1.0, y: 0.0 });
            assert_eq!(d.ring_problem, None);
        }
    }

    #[test]
    fn records_unclosed_and_short_rings() {
        let open: &[(f64, f64)] = &[(0., 0.), (1., 0.), (1., 1.), (0., 1.)];
        let d = decode(&le_polygon(&[open], 3, 0)).unwrap();
        assert_eq!(
            d.ring_problem.as_deref(),
            Some("exterior ring is not closed")
        );
        let short: &[(f64, f64)] = &[(0., 0.), (1., 0.), (0., 0.)];
        let d = decode(&le_polygon(&[short], 3, 0)).unwrap();
        assert!(d.ring_problem.unwrap().contains("3 points"));
    }

    #[test]
    fn refuses_truncated_and_curved_input() {
        let square: &[(f64, f64)] = &[(0., 0.), (1., 0.), (1., 1.), (0., 0.)];
        let b = le_polygon(&[square], 3, 0);
        assert_eq!(decode(&b[..b.len() - 3]), Err(WkbError::Truncated));
        let mut huge = vec![1u8];
        huge.extend(2u32.to_le_bytes());
        huge.extend(u32::MAX.to_le_bytes());
        assert_eq!(decode(&huge), Err(WkbError::Truncated));
        let mut curve = vec![1u8];
        curve.extend(8u32.to_le_bytes());
        assert!(matches!(decode(&curve), Err(WkbError::Unsupported(t)) if t == "CircularString"));
    }

    #[test]
    fn deeply_nested_collections_are_refused() {
        let mut bytes = Vec::new();
        for _ in 0..10_000 {
            bytes.push(1u8);
            bytes.extend(7u32.to_le_bytes());
            bytes.extend(1u32.to_le_bytes());
        }
        assert_eq!(decode(&bytes), Err(WkbError::TooDeep));
        // A collection inside a collection is fine.
        let mut two = vec![1u8];
        two.extend(7u32.to_le_bytes());
        two.extend(1u32.to_le_bytes());
        two.push(1);
        two.extend(7u32.to_le_bytes());
        two.extend(0u32.to_le_bytes());
        assert!(decode(&two).is_ok());
    }

    #[test]
    fn random_and_mutated_bytes_never_panic() {
        // Valid WKB with bytes flipped, cut or appended, and plain noise: every input gets a
        // geometry or an error, never a panic or a huge allocation.
        let square: &[(f64, f64)] = &[(0., 0.), (1., 0.), (1., 1.), (0., 0.)];
        let valid = le_polygon(&[square, square], 3, 0);
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        for _ in 0..20_000 {
            let mut bytes = valid.clone();
            match next() % 4 {
                0 => {
                    let i = next() % bytes.len();
                    bytes[i] = next() as u8;
                }
                1 => bytes.truncate(next() % bytes.len()),
                2 => bytes.extend((0..next() % 16).map(|_| next() as u8)),
                _ => bytes = (0..next() % 64).map(|_| next() as u8).collect(),
            }
            let _ = decode(&bytes);
        }
    }

    #[test]
    fn encoded_geometries_decode_to_themselves() {
        use geo::{line_string, point, polygon, MultiPolygon};
        let holed = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 0.0)],
            interiors: [[(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 1.5, y: 1.7), (x: 1.0, y: 1.0)]],
        );
        let cases: Vec<Geometry<f64>> = vec![
            point!(x: 514_965.123_456_789, y: 5_034_586.000_000_1).into(),
            line_string![(x: 1.0, y: 2.0), (x: -3.5, y: 1e-300)].into(),
            holed.clone().into(),
            MultiPolygon(vec![holed.clone(), holed]).into(),
            Geometry::GeometryCollection(geo::GeometryCollection(vec![
                point!(x: 1.0, y: 1.0).into(),
                geo::MultiPoint(vec![point!(x: 2.0, y: 3.0)]).into(),
            ])),
        ];
        for g in cases {
            let back = decode(&encode(&g)).expect("decodes");
            assert_eq!(back.geometry, g);
            assert_eq!(back.ring_problem, None);
        }
    }
}
