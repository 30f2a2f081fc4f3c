//! The subject of a question: the geometry an analysis is asked about, as a client writes it,
//! turned into a valid geometry in the working CRS.
//!
//! A subject is a point (`x,y`), a box (`minx,miny,maxx,maxy`), a geometry (GeoJSON or WKT
//! text), or a feature of the catalogue. Coordinates are read in an [`InputCrs`]: a CRS and the
//! order its coordinates are written in. The command line writes every CRS east first
//! ([`InputCrs::east_north`]); the HTTP API follows the authority ([`InputCrs::authority`]:
//! EPSG:4326 is latitude, longitude), as OGC APIs do.
//!
//! [`into_working`] checks, in this order, that the geometry lies inside the working CRS's area
//! of use (in longitude and latitude, every vertex), moves it to the working CRS, and validates
//! it ([`crate::validate::check`]). A box is densified ([`crate::crs::DENSIFY_POINTS`] per
//! edge) before it is moved, since a box in one CRS is not a box in another.
//!
//! Nothing here knows about HTTP: errors say which part of the subject is wrong, and the
//! caller decides how to report it.
//!
//! Cost: O(v) in the vertices of the subject, plus one PROJ call per run of coordinates.

use geo::{Coord, Geometry, LineString, Point, Polygon, Rect};

use crate::crs::{self, CrsError, CRS84};
use crate::feature::{Feature, FeatureId};
use crate::store::Layer;

/// What is wrong with a subject.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SubjectError {
    /// The text is not a point, box or geometry; `what` names the input (`point`, `bbox`...).
    #[error("{what}: {reason}")]
    Malformed { what: String, reason: String },
    /// Well-formed, but not a geometry that can be analysed (self-intersecting ring, empty...).
    #[error("{what}: invalid geometry: {reason}")]
    Invalid { what: String, reason: String },
    /// A vertex lies outside the working CRS's area of use.
    #[error(
        "{what}: the position ({lon:.6}, {lat:.6}) (longitude, latitude) lies outside the area \
         of use of the working CRS {crs} ({area}){hint}"
    )]
    OutsideArea {
        what: String,
        lon: f64,
        lat: f64,
        crs: String,
        /// The area's name and bounds.
        area: String,
        /// A guess at the cause (swapped axes, metres given as degrees), or empty.
        hint: String,
    },
    /// A CRS that PROJ does not know, or coordinates it cannot move.
    #[error("{what}: {reason}")]
    Crs { what: String, reason: String },
    #[error("the catalogue has no layer {layer:?}")]
    UnknownLayer { layer: String },
    #[error("layer {layer:?} has no feature {id:?}")]
    UnknownFeature { layer: String, id: String },
}

/// The CRS of a subject's coordinates and the order they are written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputCrs {
    /// Normalised id (`OGC:CRS84`, `EPSG:4326`, `EPSG:3003`).
    pub id: String,
    /// Coordinates are written northing (latitude) first, and swapped on the way in.
    pub northing_first: bool,
}

impl InputCrs {
    /// CRS84 longitude, latitude: what GeoJSON and web maps speak.
    pub fn crs84() -> InputCrs {
        InputCrs {
            id: CRS84.to_string(),
            northing_first: false,
        }
    }

    /// `crs` written east (longitude) first, whatever its definition says (the command line).
    pub fn east_north(crs: &str) -> InputCrs {
        InputCrs {
            id: crs::normalize(crs),
            northing_first: false,
        }
    }

    /// `crs` written in its authority's axis order (EPSG:4326: latitude, longitude), as OGC
    /// APIs read coordinates.
    pub fn authority(crs: &str) -> Result<InputCrs, CrsError> {
        Ok(InputCrs {
            northing_first: crs::northing_first(crs)?,
            id: crs::normalize(crs),
        })
    }

    fn ordered(&self, a: f64, b: f64) -> Coord<f64> {
        if self.northing_first {
            Coord { x: b, y: a }
        } else {
            Coord { x: a, y: b }
        }
    }

    fn is_degrees(&self) -> bool {
        self.id == CRS84 || self.id == "EPSG:4326"
    }
}

fn malformed(what: &str, reason: impl Into<String>) -> SubjectError {
    SubjectError::Malformed {
        what: what.to_string(),
        reason: reason.into(),
    }
}

fn numbers(what: &str, text: &str, counts: &[usize]) -> Result<Vec<f64>, SubjectError> {
    let values: Vec<f64> = text
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            malformed(
                what,
                format!("{text:?} is not a list of comma-separated numbers"),
            )
        })?;
    if !counts.contains(&values.len()) {
        let expected = counts
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" or ");
        return Err(malformed(
            what,
            format!("{} numbers given, {expected} expected", values.len()),
        ));
    }
    if !values.iter().all(|v| v.is_finite()) {
        return Err(malformed(what, "numbers must be finite"));
    }
    Ok(values)
}

/// A point written `x,y` in `crs`'s axis order; returned (east, north) in `crs`.
///
/// ```
/// # use territorio::analysis::subject::{point, InputCrs};
/// let lat_lon = InputCrs { id: "EPSG:4326".into(), northing_first: true };
/// assert_eq!(point("45.13,10.02", &lat_lon).unwrap(), point("10.02,45.13", &InputCrs::crs84()).unwrap());
/// ```
pub fn point(text: &str, crs: &InputCrs) -> Result<Geometry<f64>, SubjectError> {
    let v = numbers("point", text, &[2])?;
    Ok(Geometry::Point(Point(crs.ordered(v[0], v[1]))))
}

/// A box written `minx,miny,maxx,maxy` (or six numbers, with heights, which are ignored) in
/// `crs`'s axis order; returned as a rectangle (east, north) in `crs`.
pub fn bbox(text: &str, crs: &InputCrs) -> Result<Rect<f64>, SubjectError> {
    let v = numbers("bbox", text, &[4, 6])?;
    let (a, b, c, d) = match v.as_slice() {
        [a, b, c, d] => (*a, *b, *c, *d),
        [a, b, _, d, e, _] => (*a, *b, *d, *e),
        _ => return Err(malformed("bbox", "4 or 6 numbers expected")),
    };
    let (min, max) = (crs.ordered(a, b), crs.ordered(c, d));
    if min.x > max.x || min.y > max.y {
        return Err(malformed(
            "bbox",
            format!(
                "the lower corner must come first and lie below and left of the upper one \
                 ({} order)",
                if crs.northing_first {
                    "miny,minx,maxy,maxx"
                } else {
                    "minx,miny,maxx,maxy"
                }
            ),
        ));
    }
    Ok(Rect::new(min, max))
}

/// A geometry as GeoJSON text (a Geometry, a Feature, or a collection of one feature) or as
/// WKT (`POLYGON((...))`), its coordinates in `crs`'s axis order; returned (east, north) in
/// `crs`. `what` names the input in errors (`geometry`, `body`).
pub fn geometry(what: &str, text: &str, crs: &InputCrs) -> Result<Geometry<f64>, SubjectError> {
    let trimmed = text.trim_start();
    let mut g = if trimmed.starts_with('{') {
        crate::geojson_io::parse_geometry(trimmed).map_err(|e| match e {
            crate::geojson_io::GeoJsonError::Malformed(m) => {
                malformed(what, format!("malformed GeoJSON: {m}"))
            }
            crate::geojson_io::GeoJsonError::Invalid(m) => SubjectError::Invalid {
                what: what.to_string(),
                reason: m,
            },
        })?
    } else if trimmed.is_empty() {
        return Err(malformed(what, "empty: give GeoJSON or WKT"));
    } else {
        let ogr = gdal::vector::Geometry::from_wkt(trimmed).map_err(|e| {
            malformed(
                what,
                format!("neither GeoJSON (it does not start with '{{') nor WKT ({e})"),
            )
        })?;
        if ogr.is_empty() {
            return Err(SubjectError::Invalid {
                what: what.to_string(),
                reason: "empty geometry".into(),
            });
        }
        ogr.to_geo()
            .map_err(|e| malformed(what, format!("WKT that cannot be used: {e}")))?
    };
    let vertices = geo::CoordsIter::coords_count(&g);
    if vertices > MAX_VERTICES {
        return Err(SubjectError::Invalid {
            what: what.to_string(),
            reason: format!(
                "{vertices} vertices: a request geometry may have at most {MAX_VERTICES}"
            ),
        });
    }
    if crs.northing_first {
        crs::swap_axes(&mut g);
    }
    Ok(g)
}

/// The most vertices a geometry sent with a request may have. Every analysis costs at least
/// O(v) in them, and overlays more; a site, a corridor or a municipality drawn by hand has
/// far fewer.
pub const MAX_VERTICES: usize = 100_000;

/// The feature of `layer` whose id is `id` (text, or an integer id written as text).
pub fn find_feature<'a>(layer: &'a Layer, id: &str) -> Option<&'a Feature> {
    layer.get(&FeatureId::Str(id.into())).or_else(|| {
        id.parse::<i64>()
            .ok()
            .and_then(|n| layer.get(&FeatureId::Int(n)))
    })
}

/// The geometry of feature `id` (text, or an integer id written as text) of `layer`.
pub fn feature<'a>(layer: &'a Layer, id: &str) -> Result<&'a Feature, SubjectError> {
    let f = find_feature(layer, id).ok_or_else(|| SubjectError::UnknownFeature {
        layer: layer.id().to_string(),
        id: id.to_string(),
    })?;
    if let Some(reason) = &f.invalid {
        return Err(SubjectError::Invalid {
            what: format!("feature {}/{id}", layer.id()),
            reason: reason.to_string(),
        });
    }
    Ok(f)
}

/// Moves a subject from `crs` (east, north order) to the working CRS, after checking that
/// every vertex lies inside the working CRS's area of use, and validates the result. A
/// rectangle becomes a polygon, densified when the CRSs differ.
pub fn into_working(
    what: &str,
    subject: Geometry<f64>,
    crs: &InputCrs,
    working: &str,
) -> Result<Geometry<f64>, SubjectError> {
    let crs_error = |e: CrsError| SubjectError::Crs {
        what: what.to_string(),
        reason: e.to_string(),
    };
    let to_working = crs::cached_transformer(&crs.id, working).map_err(crs_error)?;
    let mut g = match subject {
        Geometry::Rect(r) if to_working.is_identity() => Geometry::Polygon(r.to_polygon()),
        Geometry::Rect(r) => {
            let mut ring = crs::densified_outline(r, crs::DENSIFY_POINTS);
            ring.push(ring[0]);
            Geometry::Polygon(Polygon::new(LineString(ring), vec![]))
        }
        other => other,
    };
    if let Some(reason) = crate::validate::check(&g) {
        return Err(SubjectError::Invalid {
            what: what.to_string(),
            reason,
        });
    }
    check_area_of_use(what, &g, crs, working)?;
    to_working.geometry(&mut g).map_err(crs_error)?;
    if let Some(reason) = crate::validate::check(&g) {
        return Err(SubjectError::Invalid {
            what: what.to_string(),
            reason,
        });
    }
    Ok(g)
}

/// Every vertex of `g` (in `crs`, east-north order) must lie in the working CRS's area of use.
fn check_area_of_use(
    what: &str,
    g: &Geometry<f64>,
    crs: &InputCrs,
    working: &str,
) -> Result<(), SubjectError> {
    let crs_error = |e: CrsError| SubjectError::Crs {
        what: what.to_string(),
        reason: e.to_string(),
    };
    let Some((area, name)) = crs::area_of_use(working).map_err(crs_error)? else {
        return Ok(());
    };
    // EPSG's names go on to list countries: keep the first sentence.
    let name = name.split(". ").next().unwrap_or(&name).to_string();
    let mut lonlat = g.clone();
    let outside = |c: &Coord<f64>| {
        !(c.x >= area.min().x && c.x <= area.max().x && c.y >= area.min().y && c.y <= area.max().y)
    };
    let to_crs84 = crs::cached_transformer(&crs.id, CRS84).map_err(crs_error)?;
    let mut first_outside: Option<Coord<f64>> = None;
    if crs.is_degrees() || to_crs84.is_identity() {
        crs::for_each_coord_slice(&mut lonlat, &mut |s| {
            if first_outside.is_none() {
                first_outside = s.iter().find(|c| outside(c)).copied();
            }
        });
    } else {
        let mut failed = None;
        crs::for_each_coord_slice(&mut lonlat, &mut |s| {
            if first_outside.is_some() || failed.is_some() {
                return;
            }
            for c in s.iter() {
                match to_crs84.coord(*c) {
                    Ok(ll) if outside(&ll) => {
                        first_outside = Some(ll);
                        return;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        failed = Some((*c, e));
                        return;
                    }
                }
            }
        });
        if let Some((c, e)) = failed {
            return Err(SubjectError::Crs {
                what: what.to_string(),
                reason: format!(
                    "the position ({}, {}) in {} has no longitude and latitude: {e}",
                    c.x, c.y, crs.id
                ),
            });
        }
    }
    let Some(c) = first_outside else {
        return Ok(());
    };
    let swapped = Coord { x: c.y, y: c.x };
    let hint = if crs.is_degrees() && !outside(&swapped) {
        if crs.northing_first {
            " (are the axes swapped? EPSG:4326 is written latitude, longitude)".to_string()
        } else {
            " (are the axes swapped? CRS84 is written longitude, latitude; name the CRS of \
             latitude, longitude input, EPSG:4326)"
                .to_string()
        }
    } else if crs.is_degrees() && (c.x.abs() > 360.0 || c.y.abs() > 360.0) {
        format!(
            " (these look like metres, not degrees: name the CRS of the coordinates; they \
             were read as {})",
            crs.id
        )
    } else {
        String::new()
    };
    Err(SubjectError::OutsideArea {
        what: what.to_string(),
        lon: c.x,
        lat: c.y,
        crs: working.to_string(),
        area: format!(
            "{name}: longitude {} to {}, latitude {} to {}",
            area.min().x,
            area.max().x,
            area.min().y,
            area.max().y
        ),
        hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Contains};

    const WORKING: &str = "EPSG:32632";

    #[test]
    fn points_follow_the_axis_order_of_their_crs() {
        let lat_lon = InputCrs::authority("EPSG:4326").unwrap();
        assert!(lat_lon.northing_first);
        let a = into_working(
            "point",
            point("45.13,10.02", &lat_lon).unwrap(),
            &lat_lon,
            WORKING,
        )
        .unwrap();
        let b = into_working(
            "point",
            point("10.02,45.13", &InputCrs::crs84()).unwrap(),
            &InputCrs::crs84(),
            WORKING,
        )
        .unwrap();
        assert_eq!(a, b);
        // The command line's convention: EPSG:4326 written lon, lat.
        let cli = InputCrs::east_north("EPSG:4326");
        let c = into_working("point", point("10.02,45.13", &cli).unwrap(), &cli, WORKING).unwrap();
        assert_eq!(a, c);
    }

    #[test]
    fn swapped_or_metric_coordinates_are_caught_with_a_hint() {
        let crs84 = InputCrs::crs84();
        let e = into_working(
            "point",
            point("45.13,10.02", &crs84).unwrap(),
            &crs84,
            WORKING,
        )
        .unwrap_err();
        assert!(matches!(e, SubjectError::OutsideArea { .. }), "{e}");
        assert!(e.to_string().contains("axes swapped"), "{e}");
        let e = into_working(
            "point",
            point("1581030,4997935", &crs84).unwrap(),
            &crs84,
            WORKING,
        )
        .unwrap_err();
        assert!(e.to_string().contains("look like metres"), "{e}");
        // Outside 6°E..12°E without a likely cause: no hint.
        let e = into_working(
            "point",
            point("14.5,45.1", &crs84).unwrap(),
            &crs84,
            WORKING,
        )
        .unwrap_err();
        assert!(e.to_string().contains("longitude 6 to 12"), "{e}");
    }

    #[test]
    fn boxes_are_densified_and_checked() {
        let crs84 = InputCrs::crs84();
        let r = bbox("9.9,45.1,10.1,45.2", &crs84).unwrap();
        let g = into_working("bbox", Geometry::Rect(r), &crs84, WORKING).unwrap();
        let Geometry::Polygon(p) = &g else {
            panic!("{g:?}")
        };
        assert_eq!(p.exterior().0.len(), 4 * (crs::DENSIFY_POINTS - 1) + 1);
        // About 15.7 km x 11.1 km.
        assert!(
            (p.unsigned_area() / 1e6 - 174.0).abs() < 2.0,
            "{}",
            p.unsigned_area()
        );
        let centre = into_working(
            "point",
            point("10.0,45.15", &crs84).unwrap(),
            &crs84,
            WORKING,
        )
        .unwrap();
        assert!(p.contains(&centre));
        for bad in ["1,2,3", "10.1,45.1,9.9,45.2", "a,b,c,d", "9,45,NaN,46"] {
            assert!(
                matches!(bbox(bad, &crs84), Err(SubjectError::Malformed { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn geometries_as_geojson_or_wkt_and_invalid_ones_refused() {
        let crs84 = InputCrs::crs84();
        let wkt = geometry(
            "geometry",
            "POLYGON((10 45, 10.01 45, 10.01 45.01, 10 45))",
            &crs84,
        )
        .unwrap();
        let gj = geometry(
            "geometry",
            r#"{"type":"Polygon","coordinates":[[[10,45],[10.01,45],[10.01,45.01],[10,45]]]}"#,
            &crs84,
        )
        .unwrap();
        assert_eq!(wkt, gj);
        let bow_tie = geometry(
            "geometry",
            "POLYGON((10 45, 10.01 45.01, 10.01 45, 10 45.01, 10 45))",
            &crs84,
        )
        .unwrap();
        let e = into_working("geometry", bow_tie, &crs84, WORKING).unwrap_err();
        assert!(matches!(e, SubjectError::Invalid { .. }), "{e}");
        for bad in ["POLYGON((10 45", "{\"type\":", "hello"] {
            assert!(
                matches!(
                    geometry("geometry", bad, &crs84),
                    Err(SubjectError::Malformed { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            geometry("geometry", "POINT EMPTY", &crs84),
            Err(SubjectError::Invalid { .. })
        ));
    }

    #[test]
    fn a_geometry_with_too_many_vertices_is_refused_naming_the_limit() {
        let ring = |n: usize| {
            let mut text = String::from("POLYGON((");
            for k in 0..n {
                let a = k as f64 / n as f64 * std::f64::consts::TAU;
                text.push_str(&format!(
                    "{:.7} {:.7},",
                    10.0 + 0.01 * a.cos(),
                    45.0 + 0.01 * a.sin()
                ));
            }
            text.push_str("10.01 45))");
            text
        };
        let crs84 = InputCrs::crs84();
        // n points plus the closing one.
        assert!(geometry("geometry", &ring(MAX_VERTICES - 1), &crs84).is_ok());
        let e = geometry("geometry", &ring(MAX_VERTICES), &crs84).expect_err("refused");
        assert!(matches!(e, SubjectError::Invalid { .. }), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("100001 vertices") && text.contains("at most 100000"),
            "{text}"
        );
    }
}
