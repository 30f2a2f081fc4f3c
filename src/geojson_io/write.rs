//! Writing GeoJSON fast: geometries and features go straight to bytes, coordinates rounded to
//! the decimals of the output CRS and written in its axis order.

use geo::{BoundingRect, Coord, Geometry, LineString, Polygon};
use serde_json::{Map, Value as Json};

use crate::crs::{self, CrsError, OutputCrs};
use crate::feature::Feature;
use crate::store::Layer;

/// Writes a feature's geometry moved from the working CRS to `out_crs`, or `null` when it has
/// no coordinates.
pub fn write_geometry_in(
    out: &mut Vec<u8>,
    feature: &Feature,
    working_crs: &str,
    out_crs: &OutputCrs,
) -> Result<(), CrsError> {
    if feature.geometry.bounding_rect().is_none() {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    write_working_geometry(out, &feature.geometry, working_crs, out_crs)
}

/// Writes a geometry of the working CRS in `out_crs`, in its axis order.
pub fn write_working_geometry(
    out: &mut Vec<u8>,
    g: &Geometry<f64>,
    working_crs: &str,
    out_crs: &OutputCrs,
) -> Result<(), CrsError> {
    let transformer = crs::cached_transformer(working_crs, &out_crs.id)?;
    let mut g = transformer.transformed(g)?;
    if out_crs.northing_first {
        crs::swap_axes(&mut g);
    }
    write_geometry(out, &g, out_crs.decimals);
    Ok(())
}

fn write_number(out: &mut Vec<u8>, v: f64, scale: f64) {
    let r = (v * scale).round() / scale;
    // -0.0 would print as "-0.0"
    let r = if r == 0.0 { 0.0 } else { r };
    if r.is_finite() {
        let mut buf = ryu::Buffer::new();
        let s = buf.format_finite(r);
        out.extend_from_slice(s.strip_suffix(".0").unwrap_or(s).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

fn write_coord(out: &mut Vec<u8>, c: &Coord<f64>, scale: f64) {
    out.push(b'[');
    write_number(out, c.x, scale);
    out.push(b',');
    write_number(out, c.y, scale);
    out.push(b']');
}

fn write_coords(out: &mut Vec<u8>, line: &LineString<f64>, scale: f64) {
    out.push(b'[');
    for (i, c) in line.0.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_coord(out, c, scale);
    }
    out.push(b']');
}

fn write_rings(out: &mut Vec<u8>, p: &Polygon<f64>, scale: f64) {
    out.push(b'[');
    write_coords(out, p.exterior(), scale);
    for ring in p.interiors() {
        out.push(b',');
        write_coords(out, ring, scale);
    }
    out.push(b']');
}

fn write_list<T>(out: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(out, item);
    }
    out.push(b']');
}

/// Writes a GeoJSON geometry object with coordinates rounded to `decimals`.
pub fn write_geometry(out: &mut Vec<u8>, g: &Geometry<f64>, decimals: u32) {
    let scale = 10f64.powi(decimals as i32);
    match g {
        Geometry::Point(p) => {
            out.extend_from_slice(br#"{"type":"Point","coordinates":"#);
            write_coord(out, &p.0, scale);
        }
        Geometry::Line(l) => {
            out.extend_from_slice(br#"{"type":"LineString","coordinates":["#);
            write_coord(out, &l.start, scale);
            out.push(b',');
            write_coord(out, &l.end, scale);
            out.push(b']');
        }
        Geometry::LineString(ls) => {
            out.extend_from_slice(br#"{"type":"LineString","coordinates":"#);
            write_coords(out, ls, scale);
        }
        Geometry::Polygon(p) => {
            out.extend_from_slice(br#"{"type":"Polygon","coordinates":"#);
            write_rings(out, p, scale);
        }
        Geometry::MultiPoint(mp) => {
            out.extend_from_slice(br#"{"type":"MultiPoint","coordinates":"#);
            write_list(out, &mp.0, |o, p| write_coord(o, &p.0, scale));
        }
        Geometry::MultiLineString(mls) => {
            out.extend_from_slice(br#"{"type":"MultiLineString","coordinates":"#);
            write_list(out, &mls.0, |o, l| write_coords(o, l, scale));
        }
        Geometry::MultiPolygon(mp) => {
            out.extend_from_slice(br#"{"type":"MultiPolygon","coordinates":"#);
            write_list(out, &mp.0, |o, p| write_rings(o, p, scale));
        }
        Geometry::GeometryCollection(gc) => {
            out.extend_from_slice(br#"{"type":"GeometryCollection","geometries":"#);
            write_list(out, &gc.0, |o, g| write_geometry(o, g, decimals));
        }
        Geometry::Rect(r) => {
            return write_geometry(out, &Geometry::Polygon(r.to_polygon()), decimals)
        }
        Geometry::Triangle(t) => {
            return write_geometry(out, &Geometry::Polygon(t.to_polygon()), decimals)
        }
    }
    out.push(b'}');
}

/// Writes a JSON string.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes exactly as JSON requires; writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes one GeoJSON Feature: id, geometry text (already written in the output CRS, or `None`
/// to skip it), the properties at `fields` (positions in the layer schema) and `extra` ones.
pub fn write_feature(
    out: &mut Vec<u8>,
    layer: &Layer,
    feature: &Feature,
    geometry: Option<&[u8]>,
    fields: &[usize],
    extra: Option<&Map<String, Json>>,
) {
    out.extend_from_slice(br#"{"type":"Feature","id":"#);
    let _ = serde_json::to_writer(&mut *out, &feature.id.to_json());
    out.extend_from_slice(br#","geometry":"#);
    out.extend_from_slice(geometry.unwrap_or(b"null"));
    out.extend_from_slice(br#","properties":{"#);
    let mut first = true;
    for &i in fields {
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(out, &layer.fields[i].name);
        out.push(b':');
        let _ = serde_json::to_writer(&mut *out, &feature.values[i].to_json());
    }
    if let Some(reason) = &feature.invalid {
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(br#""_invalid_geometry":"#);
        write_str(out, reason);
    }
    for (k, v) in extra.into_iter().flatten() {
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(out, k);
        out.push(b':');
        let _ = serde_json::to_writer(&mut *out, v);
    }
    out.extend_from_slice(b"}}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{point, polygon};

    fn text(g: &Geometry<f64>, decimals: u32) -> Json {
        let mut out = Vec::new();
        write_geometry(&mut out, g, decimals);
        serde_json::from_slice(&out).expect("valid JSON")
    }

    #[test]
    fn geometries_are_valid_geojson_with_rounded_coordinates() {
        let p = Geometry::Point(point!(x: 9.123456789, y: 45.0));
        assert_eq!(
            text(&p, 7),
            serde_json::json!({"type": "Point", "coordinates": [9.1234568, 45]})
        );
        let poly = Geometry::Polygon(polygon![
            (x: 0.0, y: 0.0), (x: 1.0006, y: 0.0), (x: 1.0, y: -1.0), (x: 0.0, y: 0.0)
        ]);
        assert_eq!(
            text(&poly, 3),
            serde_json::json!({"type": "Polygon", "coordinates": [[[0, 0], [1.001, 0], [1, -1], [0, 0]]]})
        );
    }
}
