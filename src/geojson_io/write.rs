//! Writing GeoJSON fast: geometries and features go straight to bytes, coordinates rounded to
//! the decimals of the output CRS and written in its axis order.

use geo::{BoundingRect, Coord, Geometry, LineString, Polygon};
use serde_json::{Map, Value as Json};

use crate::crs::{self, CrsError, OutputCrs};
use crate::feature::{Feature, FeatureId, Value};
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
    // Most text (names, codes, URLs) has nothing to escape: copied as it is.
    if !needs_escape(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // serde_json escapes exactly as JSON requires; writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Whether `s` holds a byte JSON strings must escape (a control character, `"` or `\\`),
/// looked for eight bytes at a time: a byte below 0x20 makes `v - 0x20` borrow into its top
/// bit where `v` has none, and a byte equal to `"` or `\\` becomes zero once xored with it.
pub fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = 0x8080_8080_8080_8080;
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * n as u64) & !v & TOPS;
    let mut chunks = s.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let hits = below(v, 0x20)
            | below(v ^ (ONES * b'"' as u64), 1)
            | below(v ^ (ONES * b'\\' as u64), 1);
        if hits != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Writes a property value as JSON, exactly as `value.to_json()` would be written, without
/// building that value.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(i) => {
            let _ = serde_json::to_writer(&mut *out, i);
        }
        // Non-finite reals have no JSON form: null, as `Value::to_json` has it.
        Value::Real(r) if r.is_finite() => {
            let _ = serde_json::to_writer(&mut *out, r);
        }
        Value::Real(_) => out.extend_from_slice(b"null"),
        Value::String(s) | Value::Date(s) | Value::DateTime(s) => write_str(out, s),
    }
}

/// Writes a feature id as JSON (a number or a string), as `id.to_json()` would be written.
pub fn write_id(out: &mut Vec<u8>, id: &FeatureId) {
    match id {
        FeatureId::Int(i) => {
            let _ = serde_json::to_writer(&mut *out, i);
        }
        FeatureId::Str(s) => write_str(out, s),
    }
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
    write_id(out, &feature.id);
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
        write_value(out, &feature.values[i]);
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

    #[test]
    fn needs_escape_finds_every_byte_that_json_escapes() {
        // Every byte value, at every position of strings of 1 to 20 bytes of plain text.
        for len in 1..=20 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut s = vec![b'a'; len];
                    s[at] = b;
                    let expected = b < 0x20 || b == b'"' || b == b'\\';
                    assert_eq!(needs_escape(&s), expected, "byte {b:#x} at {at} of {len}");
                }
            }
        }
        assert!(!needs_escape("città – Ñ €".as_bytes()));
        assert!(!needs_escape(b""));
    }

    #[test]
    fn values_and_ids_are_written_as_their_json() {
        let values = [
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(-42),
            Value::Int(i64::MAX),
            Value::Real(0.1),
            Value::Real(1.0),
            Value::Real(-2.5e-12),
            Value::Real(f64::NAN),
            Value::Real(f64::INFINITY),
            Value::String("Cremona".into()),
            Value::String("quote \" backslash \\ newline \n tab \t bell \u{7} città".into()),
            Value::Date("2026-06-30".into()),
            Value::DateTime("2026-06-30T12:00:00Z".into()),
        ];
        for v in &values {
            let mut out = Vec::new();
            write_value(&mut out, v);
            assert_eq!(out, serde_json::to_vec(&v.to_json()).unwrap(), "{v:?}");
        }
        for id in [FeatureId::Int(7), FeatureId::Str("P\"012".into())] {
            let mut out = Vec::new();
            write_id(&mut out, &id);
            assert_eq!(out, serde_json::to_vec(&id.to_json()).unwrap(), "{id:?}");
        }
    }

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
