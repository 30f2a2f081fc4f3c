//! GeoJSON in and out.
//!
//! Out: features and feature collections in CRS84 lon/lat (RFC 7946), or in a CRS the caller
//! names, with properties in field order: as `serde_json` values here (small documents of the
//! CLI), or written straight to bytes ([`write`](mod@write), [`Collection`]) with each feature's CRS84
//! geometry text cached ([`GeometryCache`]) for answers that list many features.
//! In: a geometry from GeoJSON text (a Geometry, a Feature, or a FeatureCollection of one
//! feature), refusing what RFC 7946 forbids (positions with fewer than two numbers, unclosed
//! rings) with a message that names it.
//!
//! Nothing here knows about HTTP.

mod cache;
mod collection;
pub mod write;

pub use cache::GeometryCache;
pub use collection::Collection;

use geo::Geometry;
use serde_json::{json, Map, Value as Json};

use crate::crs::{CrsError, Transformer};
use crate::feature::Feature;
use crate::store::Layer;

/// Errors reading GeoJSON input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeoJsonError {
    #[error("malformed GeoJSON: {0}")]
    Malformed(String),
    #[error("GeoJSON {0}")]
    Invalid(String),
}

/// The JSON `coordinates` / `geometries` of a geometry, as they are (no transformation).
pub fn geometry_json(geometry: &Geometry<f64>) -> Json {
    fn pos(c: &geo::Coord<f64>) -> Json {
        json!([c.x, c.y])
    }
    fn line(ls: &geo::LineString<f64>) -> Json {
        Json::Array(ls.0.iter().map(pos).collect())
    }
    fn poly(p: &geo::Polygon<f64>) -> Json {
        Json::Array(
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(line)
                .collect(),
        )
    }
    match geometry {
        Geometry::Point(p) => json!({"type": "Point", "coordinates": pos(&p.0)}),
        Geometry::Line(l) => {
            json!({"type": "LineString", "coordinates": [pos(&l.start), pos(&l.end)]})
        }
        Geometry::LineString(ls) => json!({"type": "LineString", "coordinates": line(ls)}),
        Geometry::Polygon(p) => json!({"type": "Polygon", "coordinates": poly(p)}),
        Geometry::MultiPoint(mp) => json!({
            "type": "MultiPoint",
            "coordinates": mp.0.iter().map(|p| pos(&p.0)).collect::<Vec<_>>()
        }),
        Geometry::MultiLineString(mls) => json!({
            "type": "MultiLineString",
            "coordinates": mls.0.iter().map(line).collect::<Vec<_>>()
        }),
        Geometry::MultiPolygon(mp) => json!({
            "type": "MultiPolygon",
            "coordinates": mp.0.iter().map(poly).collect::<Vec<_>>()
        }),
        Geometry::GeometryCollection(gc) => json!({
            "type": "GeometryCollection",
            "geometries": gc.0.iter().map(geometry_json).collect::<Vec<_>>()
        }),
        Geometry::Rect(r) => geometry_json(&Geometry::Polygon(r.to_polygon())),
        Geometry::Triangle(t) => geometry_json(&Geometry::Polygon(t.to_polygon())),
    }
}

/// A GeoJSON Feature for a feature of `layer`, its geometry moved by `to_output`
/// (working CRS -> CRS84 or the client's CRS). `extra` properties follow the layer's own.
pub fn feature_json(
    layer: &Layer,
    feature: &Feature,
    to_output: &Transformer,
    extra: Map<String, Json>,
) -> Result<Json, CrsError> {
    let mut properties = Map::with_capacity(layer.fields.len() + extra.len() + 1);
    for (field, value) in layer.fields.iter().zip(&feature.values) {
        properties.insert(field.name.clone(), value.to_json());
    }
    if let Some(reason) = &feature.invalid {
        properties.insert("_invalid_geometry".into(), Json::String(reason.to_string()));
    }
    properties.extend(extra);
    let geometry =
        if feature.is_valid() || geo::BoundingRect::bounding_rect(&feature.geometry).is_some() {
            geometry_json(&to_output.transformed(&feature.geometry)?)
        } else {
            Json::Null
        };
    Ok(json!({
        "type": "Feature",
        "id": feature.id.to_json(),
        "geometry": geometry,
        "properties": properties,
    }))
}

/// A FeatureCollection of `features`, with foreign members `extra` (e.g. analysis totals).
pub fn feature_collection(features: Vec<Json>, extra: Map<String, Json>) -> Json {
    let mut fc = Map::new();
    fc.insert("type".into(), json!("FeatureCollection"));
    fc.extend(extra);
    fc.insert("features".into(), Json::Array(features));
    Json::Object(fc)
}

/// Reads one geometry from GeoJSON text: a Geometry, a Feature, or a FeatureCollection with
/// exactly one feature. Coordinates are returned as written (the caller knows their CRS).
pub fn parse_geometry(text: &str) -> Result<Geometry<f64>, GeoJsonError> {
    let gj: geojson::GeoJson = text
        .parse()
        .map_err(|e: geojson::Error| GeoJsonError::Malformed(e.to_string()))?;
    let geometry = match gj {
        geojson::GeoJson::Geometry(g) => g,
        geojson::GeoJson::Feature(f) => f
            .geometry
            .ok_or_else(|| GeoJsonError::Invalid("feature has no geometry".into()))?,
        geojson::GeoJson::FeatureCollection(fc) => {
            let n = fc.features.len();
            let mut features = fc.features.into_iter();
            match (features.next(), n) {
                (Some(f), 1) => f
                    .geometry
                    .ok_or_else(|| GeoJsonError::Invalid("feature has no geometry".into()))?,
                _ => {
                    return Err(GeoJsonError::Invalid(format!(
                        "feature collection must hold exactly one feature, it holds {n}"
                    )))
                }
            }
        }
    };
    check_value(&geometry.value)?;
    Geometry::try_from(&geometry.value).map_err(|e| GeoJsonError::Invalid(e.to_string()))
}

fn check_positions(positions: &[geojson::Position]) -> Result<(), GeoJsonError> {
    for p in positions {
        if p.len() < 2 {
            return Err(GeoJsonError::Invalid(format!(
                "position {:?} has fewer than two numbers",
                p.as_slice()
            )));
        }
        if !p.as_slice().iter().all(|v| v.is_finite()) {
            return Err(GeoJsonError::Invalid(
                "position with a non-finite number".into(),
            ));
        }
    }
    Ok(())
}

fn check_rings(rings: &[Vec<geojson::Position>]) -> Result<(), GeoJsonError> {
    for (i, ring) in rings.iter().enumerate() {
        check_positions(ring)?;
        let name = if i == 0 {
            "exterior ring".to_string()
        } else {
            format!("interior ring {i}")
        };
        if ring.len() < 4 {
            return Err(GeoJsonError::Invalid(format!(
                "polygon {name} has {} positions, a ring needs at least 4",
                ring.len()
            )));
        }
        if ring.first().map(|p| p.as_slice()) != ring.last().map(|p| p.as_slice()) {
            return Err(GeoJsonError::Invalid(format!(
                "polygon {name} is not closed (RFC 7946 3.1.6: first and last positions must be equal)"
            )));
        }
    }
    Ok(())
}

fn check_value(value: &geojson::GeometryValue) -> Result<(), GeoJsonError> {
    use geojson::GeometryValue as V;
    match value {
        V::Point { coordinates } => check_positions(std::slice::from_ref(coordinates)),
        V::MultiPoint { coordinates } | V::LineString { coordinates } => {
            check_positions(coordinates)
        }
        V::MultiLineString { coordinates } => {
            coordinates.iter().try_for_each(|l| check_positions(l))
        }
        V::Polygon { coordinates } => check_rings(coordinates),
        V::MultiPolygon { coordinates } => coordinates.iter().try_for_each(|p| check_rings(p)),
        V::GeometryCollection { geometries } => geometries.iter().try_for_each(|g| {
            if matches!(g.value, V::GeometryCollection { .. }) {
                // RFC 7946 (3.1.8) asks writers to avoid them, and the OpenAPI document's
                // geometry schema leaves them out.
                return Err(GeoJsonError::Invalid(
                    "a GeometryCollection inside a GeometryCollection".into(),
                ));
            }
            check_value(&g.value)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn parses_geometry_feature_and_single_feature_collection() {
        let g = r#"{"type":"Point","coordinates":[10.02,45.13]}"#;
        assert_eq!(
            parse_geometry(g).unwrap(),
            Geometry::Point(geo::Point::new(10.02, 45.13))
        );
        let f = format!(r#"{{"type":"Feature","properties":{{}},"geometry":{g}}}"#);
        assert!(parse_geometry(&f).is_ok());
        let fc = format!(r#"{{"type":"FeatureCollection","features":[{f}]}}"#);
        assert!(parse_geometry(&fc).is_ok());
        let two = format!(r#"{{"type":"FeatureCollection","features":[{f},{f}]}}"#);
        assert!(parse_geometry(&two)
            .unwrap_err()
            .to_string()
            .contains("exactly one"));
    }

    #[test]
    fn a_collection_inside_a_collection_is_refused() {
        let flat = r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[10,45]}]}"#;
        assert!(parse_geometry(flat).is_ok());
        let nested = format!(r#"{{"type":"GeometryCollection","geometries":[{flat}]}}"#);
        assert!(matches!(
            parse_geometry(&nested),
            Err(GeoJsonError::Invalid(m)) if m.contains("inside a GeometryCollection")
        ));
    }

    #[test]
    fn refuses_malformed_and_invalid_input_with_a_reason() {
        assert!(matches!(
            parse_geometry("{\"type\":"),
            Err(GeoJsonError::Malformed(_))
        ));
        let open = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}"#;
        assert!(parse_geometry(open)
            .unwrap_err()
            .to_string()
            .contains("not closed"));
        let short = r#"{"type":"LineString","coordinates":[[0],[1,1]]}"#;
        let e = parse_geometry(short);
        assert!(e.is_err(), "{e:?}");
    }

    #[test]
    fn writes_rfc7946_shapes() {
        let p = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.)];
        let j = geometry_json(&Geometry::Polygon(p));
        assert_eq!(
            j,
            json!({"type":"Polygon","coordinates":[[[0.0,0.0],[1.0,0.0],[1.0,1.0],[0.0,0.0]]]})
        );
    }
}
