//! Coordinate reference systems: naming them, checking the working CRS, and moving geometries
//! between CRSs with PROJ.
//!
//! Every [`Transformer`] is normalised for visualisation: coordinates go in and come out as
//! (easting, northing) or (longitude, latitude), whatever axis order the CRS definition says.
//! EPSG:4326 is therefore (lon, lat) here; a caller that must speak EPSG:4326's official
//! (lat, lon) order swaps axes at its own edge (see [`swap_axes`]).
//!
//! `proj::Proj` is neither `Send` nor `Sync`: a `Transformer` lives on one thread. Create one per
//! thread or per task (creation costs about a millisecond).

mod output;
pub use output::OutputCrs;

use geo::{Coord, Geometry, Rect};
use proj::Proj;

/// OGC CRS84: WGS 84 longitude, latitude. The CRS of GeoJSON (RFC 7946).
pub const CRS84: &str = "OGC:CRS84";

/// The OGC URI of [`CRS84`].
pub const CRS84_URI: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// Points added along each edge when a box is moved to another CRS.
pub const DENSIFY_POINTS: usize = 21;

/// Errors about CRSs and coordinate transformations.
#[derive(Debug, thiserror::Error)]
pub enum CrsError {
    #[error("unknown or unsupported CRS {crs:?}: {reason}")]
    Unknown { crs: String, reason: String },
    #[error("cannot transform coordinates from {from} to {to}: {reason}")]
    Transform {
        from: String,
        to: String,
        reason: String,
    },
    #[error("working CRS {crs} must be a projected CRS in metres: {reason}")]
    NotMetric { crs: String, reason: String },
}

/// The CRSs a client of the service may ask for (`crs`, `bbox-crs`, `filter-crs`,
/// `subject-crs`), besides the working CRS.
pub const SUPPORTED: [&str; 6] = [
    CRS84,
    "EPSG:4326",
    "EPSG:3857",
    "EPSG:32632",
    "EPSG:6707",
    "EPSG:3003",
];

/// The CRSs of the service, CRS84 first, the working CRS included once (normalised ids).
pub fn supported(working_crs: &str) -> Vec<String> {
    let mut list: Vec<String> = SUPPORTED.iter().map(|s| s.to_string()).collect();
    let w = normalize(working_crs);
    if !list.contains(&w) {
        list.push(w);
    }
    list
}

/// [`supported`] as OGC URIs, as collections and the API document list them.
pub fn supported_uris(working_crs: &str) -> Vec<String> {
    supported(working_crs).iter().map(|c| uri(c)).collect()
}

/// Turns the CRS spellings clients use into one PROJ understands and that compares equal:
/// `EPSG:3003`, `epsg:3003`, `urn:ogc:def:crs:EPSG::3003` and
/// `http://www.opengis.net/def/crs/EPSG/0/3003` all become `EPSG:3003`;
/// `CRS84` and the OGC CRS84 URIs become `OGC:CRS84`. Anything else (WKT, PROJ strings)
/// is passed through trimmed.
pub fn normalize(crs: &str) -> String {
    let s = crs.trim();
    if is_normal(s) {
        return s.to_string();
    }
    let lower = s.to_ascii_lowercase();
    for prefix in [
        "http://www.opengis.net/def/crs/",
        "https://www.opengis.net/def/crs/",
    ] {
        if lower.starts_with(prefix) {
            let rest: Vec<&str> = s[prefix.len()..].split('/').collect();
            if let [auth, _version, code] = rest.as_slice() {
                return authority_code(auth, code);
            }
        }
    }
    if lower.starts_with("urn:ogc:def:crs:") {
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() >= 7 {
            return authority_code(parts[4], parts[6]);
        }
    }
    if let Some((auth, code)) = s.split_once(':') {
        if !auth.contains(['[', ' ', '+']) && !code.contains(['[', ' ']) {
            return authority_code(auth, code);
        }
    }
    if lower == "crs84" || lower == "wgs84" {
        return CRS84.to_string();
    }
    s.to_string()
}

fn authority_code(auth: &str, code: &str) -> String {
    let auth = auth.to_ascii_uppercase();
    if auth == "OGC" && code.eq_ignore_ascii_case("crs84") {
        return CRS84.to_string();
    }
    format!("{auth}:{code}")
}

/// [`normalize`], borrowing `crs` when it is normal already (what the server itself passes
/// around: `OGC:CRS84`, `EPSG:32632`).
pub fn normalized(crs: &str) -> std::borrow::Cow<'_, str> {
    if is_normal(crs) {
        std::borrow::Cow::Borrowed(crs)
    } else {
        std::borrow::Cow::Owned(normalize(crs))
    }
}

/// Whether `s` is a normal id already: `OGC:CRS84` or `EPSG:` and digits.
fn is_normal(s: &str) -> bool {
    s == CRS84
        || s.strip_prefix("EPSG:")
            .is_some_and(|code| !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()))
}

/// The OGC URI of a CRS given as `AUTH:CODE` (`http://www.opengis.net/def/crs/EPSG/0/32632`).
pub fn uri(crs: &str) -> String {
    let n = normalize(crs);
    if n == CRS84 {
        return CRS84_URI.to_string();
    }
    match n.split_once(':') {
        Some((auth, code)) => format!("http://www.opengis.net/def/crs/{auth}/0/{code}"),
        None => n,
    }
}

/// Checks that `crs` is a projected CRS whose unit is the metre, as the working CRS must be.
pub fn check_working_crs(crs: &str) -> Result<(), CrsError> {
    let n = normalize(crs);
    let srs =
        gdal::spatial_ref::SpatialRef::from_definition(&n).map_err(|e| CrsError::Unknown {
            crs: crs.to_string(),
            reason: e.to_string(),
        })?;
    if !srs.is_projected() {
        return Err(CrsError::NotMetric {
            crs: crs.to_string(),
            reason: "it is not projected (distances would be in degrees)".into(),
        });
    }
    let unit = srs.linear_units();
    if (unit - 1.0).abs() > 1e-12 {
        return Err(CrsError::NotMetric {
            crs: crs.to_string(),
            reason: format!(
                "its unit is {} ({unit} m)",
                srs.linear_units_name().unwrap_or_default()
            ),
        });
    }
    Ok(())
}

/// Whether the CRS's own definition puts northing or latitude first (EPSG:4326 is latitude,
/// longitude; EPSG:6707 is northing, easting), so that coordinates exchanged in the
/// authority's axis order must be swapped against this module's (east, north) order.
///
/// Read from the CRS definition through GDAL and remembered per CRS.
pub fn northing_first(crs: &str) -> Result<bool, CrsError> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static KNOWN: OnceLock<Mutex<HashMap<String, bool>>> = OnceLock::new();
    let n = normalize(crs);
    let known = KNOWN.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(&answer) = known.lock().unwrap_or_else(|e| e.into_inner()).get(&n) {
        return Ok(answer);
    }
    let unknown = |reason: String| CrsError::Unknown {
        crs: crs.to_string(),
        reason,
    };
    let srs =
        gdal::spatial_ref::SpatialRef::from_definition(&n).map_err(|e| unknown(e.to_string()))?;
    let key = if srs.is_projected() {
        "PROJCS"
    } else if srs.is_geographic() {
        "GEOGCS"
    } else {
        return Err(unknown("neither geographic nor projected".into()));
    };
    let orientation = srs
        .axis_orientation(key, 0)
        .map_err(|e| unknown(e.to_string()))?;
    let answer = matches!(
        orientation,
        gdal_sys::OGRAxisOrientation::OAO_North | gdal_sys::OGRAxisOrientation::OAO_South
    );
    let mut known = known.lock().unwrap_or_else(|e| e.into_inner());
    if known.len() >= 256 {
        known.clear();
    }
    known.insert(n, answer);
    Ok(answer)
}

/// The area of use of a CRS as a (longitude, latitude) box in degrees, with its name (for
/// EPSG:32632, 6°E to 12°E, 0°N to 84°N, "Between 6°E and 12°E, northern hemisphere..."), read
/// from the CRS definition through GDAL and remembered per CRS. `None` when the definition
/// has none (a custom WKT or PROJ string).
pub fn area_of_use(crs: &str) -> Result<Option<(Rect<f64>, String)>, CrsError> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Known = HashMap<String, Option<(Rect<f64>, String)>>;
    static KNOWN: OnceLock<Mutex<Known>> = OnceLock::new();
    let n = normalize(crs);
    let known = KNOWN.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(answer) = known.lock().unwrap_or_else(|e| e.into_inner()).get(&n) {
        return Ok(answer.clone());
    }
    let srs =
        gdal::spatial_ref::SpatialRef::from_definition(&n).map_err(|e| CrsError::Unknown {
            crs: crs.to_string(),
            reason: e.to_string(),
        })?;
    let answer = srs.area_of_use().and_then(|a| {
        let values = [
            a.west_lon_degree,
            a.south_lat_degree,
            a.east_lon_degree,
            a.north_lat_degree,
        ];
        // GDAL reports -1000 for an unknown area.
        (values.iter().all(|v| v.is_finite() && v.abs() <= 180.0)
            && a.west_lon_degree <= a.east_lon_degree)
            .then(|| {
                (
                    Rect::new(
                        Coord {
                            x: a.west_lon_degree,
                            y: a.south_lat_degree,
                        },
                        Coord {
                            x: a.east_lon_degree,
                            y: a.north_lat_degree,
                        },
                    ),
                    a.name,
                )
            })
    });
    known
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(n, answer.clone());
    Ok(answer)
}

/// A coordinate transformation between two CRSs, in (x = east, y = north) order on both sides.
pub struct Transformer {
    /// `None` when source and target are the same CRS.
    proj: Option<Proj>,
    from: String,
    to: String,
}

impl std::fmt::Debug for Transformer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transformer")
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

impl Transformer {
    /// A transformation from `from` to `to`. PROJ picks the most accurate operation it knows
    /// for the area (for EPSG:3003 -> EPSG:32632, the Monte Mario -> WGS 84 Helmert shift).
    pub fn new(from: &str, to: &str) -> Result<Self, CrsError> {
        let (from, to) = (normalize(from), normalize(to));
        if from == to {
            // Still check the name means something.
            Proj::new_known_crs(&from, CRS84, None).map_err(|e| CrsError::Unknown {
                crs: from.clone(),
                reason: e.to_string(),
            })?;
            return Ok(Transformer {
                proj: None,
                from,
                to,
            });
        }
        let proj = Proj::new_known_crs(&from, &to, None).map_err(|e| {
            // Say which side is unknown.
            let bad = if Proj::new_known_crs(&from, CRS84, None).is_err() {
                from.clone()
            } else {
                to.clone()
            };
            CrsError::Unknown {
                crs: bad,
                reason: e.to_string(),
            }
        })?;
        Ok(Transformer {
            proj: Some(proj),
            from,
            to,
        })
    }

    pub fn from_crs(&self) -> &str {
        &self.from
    }

    pub fn to_crs(&self) -> &str {
        &self.to
    }

    /// Whether the transformation changes nothing.
    pub fn is_identity(&self) -> bool {
        self.proj.is_none()
    }

    fn error(&self, reason: impl ToString) -> CrsError {
        CrsError::Transform {
            from: self.from.clone(),
            to: self.to.clone(),
            reason: reason.to_string(),
        }
    }

    /// Transforms one coordinate.
    pub fn coord(&self, c: Coord<f64>) -> Result<Coord<f64>, CrsError> {
        let mut one = [c];
        self.coords(&mut one)?;
        Ok(one[0])
    }

    /// Transforms coordinates in place. Fails, naming the problem, when PROJ cannot
    /// transform a point or returns a non-finite value.
    pub fn coords(&self, coords: &mut [Coord<f64>]) -> Result<(), CrsError> {
        let Some(proj) = &self.proj else {
            return Ok(());
        };
        if coords.is_empty() {
            return Ok(());
        }
        if let [one] = coords {
            // One point (a query point, a point feature): PROJ's single-point call, without
            // the buffer the array call copies the points into.
            *one = proj.convert(*one).map_err(|e| self.error(e))?;
        } else {
            proj.convert_array(coords).map_err(|e| self.error(e))?;
        }
        if let Some(bad) = coords
            .iter()
            .find(|c| !(c.x.is_finite() && c.y.is_finite()))
        {
            return Err(self.error(format!("point transformed to ({}, {})", bad.x, bad.y)));
        }
        Ok(())
    }

    /// Transforms a geometry in place.
    pub fn geometry(&self, geometry: &mut Geometry<f64>) -> Result<(), CrsError> {
        if self.proj.is_none() {
            return Ok(());
        }
        let mut result = Ok(());
        for_each_coord_slice(geometry, &mut |slice| {
            if result.is_ok() {
                result = self.coords(slice);
            }
        });
        result
    }

    /// Transforms a geometry into a new one.
    pub fn transformed(&self, geometry: &Geometry<f64>) -> Result<Geometry<f64>, CrsError> {
        let mut g = geometry.clone();
        self.geometry(&mut g)?;
        Ok(g)
    }

    /// Transforms a box: its edges are densified ([`DENSIFY_POINTS`] per edge) and the box
    /// of the transformed outline returned, since a box in one CRS is not a box in another.
    pub fn bounds(&self, rect: Rect<f64>) -> Result<Rect<f64>, CrsError> {
        if self.proj.is_none() {
            return Ok(rect);
        }
        let mut ring = densified_outline(rect, DENSIFY_POINTS);
        self.coords(&mut ring)?;
        let mut min = ring[0];
        let mut max = ring[0];
        for c in &ring {
            min.x = min.x.min(c.x);
            min.y = min.y.min(c.y);
            max.x = max.x.max(c.x);
            max.y = max.y.max(c.y);
        }
        Ok(Rect::new(min, max))
    }
}

thread_local! {
    static TRANSFORMERS: std::cell::RefCell<std::collections::HashMap<(String, String), std::rc::Rc<Transformer>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// A [`Transformer`] from `from` to `to`, created once per thread and reused: creating one
/// costs about a millisecond, reusing it nothing. Request handlers use this.
pub fn cached_transformer(from: &str, to: &str) -> Result<std::rc::Rc<Transformer>, CrsError> {
    type Last = Option<(String, String, std::rc::Rc<Transformer>)>;
    thread_local! {
        // The pair asked for last, as spelled: a thread serving one kind of request asks for
        // the same pair again and again, and finds it without normalising or hashing.
        static LAST: std::cell::RefCell<Last> = const { std::cell::RefCell::new(None) };
    }
    let last = LAST.with(|l| {
        l.borrow()
            .as_ref()
            .filter(|(f, t, _)| f == from && t == to)
            .map(|(_, _, transformer)| transformer.clone())
    });
    if let Some(t) = last {
        return Ok(t);
    }
    let t = cached_transformer_by_name(from, to)?;
    LAST.with(|l| *l.borrow_mut() = Some((from.to_string(), to.to_string(), t.clone())));
    Ok(t)
}

fn cached_transformer_by_name(from: &str, to: &str) -> Result<std::rc::Rc<Transformer>, CrsError> {
    let key = (normalize(from), normalize(to));
    if let Some(t) = TRANSFORMERS.with(|m| m.borrow().get(&key).cloned()) {
        return Ok(t);
    }
    let t = std::rc::Rc::new(Transformer::new(&key.0, &key.1)?);
    TRANSFORMERS.with(|m| {
        let mut m = m.borrow_mut();
        // Clients may name many CRSs: keep the cache small.
        if m.len() >= 32 {
            m.clear();
        }
        m.insert(key, t.clone());
    });
    Ok(t)
}

/// The outline of `rect` with `per_edge` points on each edge (corners included once).
pub fn densified_outline(rect: Rect<f64>, per_edge: usize) -> Vec<Coord<f64>> {
    let n = per_edge.max(2);
    let (min, max) = (rect.min(), rect.max());
    let corners = [
        min,
        Coord { x: max.x, y: min.y },
        max,
        Coord { x: min.x, y: max.y },
    ];
    let mut out = Vec::with_capacity(4 * (n - 1));
    for i in 0..4 {
        let (a, b) = (corners[i], corners[(i + 1) % 4]);
        for k in 0..n - 1 {
            let t = k as f64 / (n - 1) as f64;
            out.push(Coord {
                x: a.x + (b.x - a.x) * t,
                y: a.y + (b.y - a.y) * t,
            });
        }
    }
    out
}

/// Swaps x and y of every coordinate: for the CRSs whose official axis order is
/// (lat, lon) or (northing, easting), at the edge where a client asks for that order.
pub fn swap_axes(geometry: &mut Geometry<f64>) {
    for_each_coord_slice(geometry, &mut |slice| {
        for c in slice {
            std::mem::swap(&mut c.x, &mut c.y);
        }
    });
}

/// Calls `f` on every run of coordinates of a geometry (a point, a line, a ring).
pub fn for_each_coord_slice(geometry: &mut Geometry<f64>, f: &mut dyn FnMut(&mut [Coord<f64>])) {
    match geometry {
        Geometry::Point(p) => f(std::slice::from_mut(&mut p.0)),
        Geometry::Line(l) => {
            let mut pair = [l.start, l.end];
            f(&mut pair);
            l.start = pair[0];
            l.end = pair[1];
        }
        Geometry::LineString(ls) => f(&mut ls.0),
        Geometry::Polygon(p) => {
            p.exterior_mut(|ring| f(&mut ring.0));
            p.interiors_mut(|rings| {
                for ring in rings {
                    f(&mut ring.0)
                }
            });
        }
        Geometry::MultiPoint(mp) => {
            let mut coords: Vec<Coord<f64>> = mp.0.iter().map(|p| p.0).collect();
            f(&mut coords);
            for (p, c) in mp.0.iter_mut().zip(coords) {
                p.0 = c;
            }
        }
        Geometry::MultiLineString(mls) => {
            for ls in &mut mls.0 {
                f(&mut ls.0)
            }
        }
        Geometry::MultiPolygon(mp) => {
            for p in &mut mp.0 {
                p.exterior_mut(|ring| f(&mut ring.0));
                p.interiors_mut(|rings| {
                    for ring in rings {
                        f(&mut ring.0)
                    }
                });
            }
        }
        Geometry::GeometryCollection(gc) => {
            for g in &mut gc.0 {
                for_each_coord_slice(g, f)
            }
        }
        Geometry::Rect(r) => {
            let mut pair = [r.min(), r.max()];
            f(&mut pair);
            *r = Rect::new(pair[0], pair[1]);
        }
        Geometry::Triangle(t) => {
            let mut three = [t.v1(), t.v2(), t.v3()];
            f(&mut three);
            *t = geo::Triangle::new(three[0], three[1], three[2]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_common_spellings() {
        assert_eq!(normalize("epsg:3003"), "EPSG:3003");
        assert_eq!(normalize("urn:ogc:def:crs:EPSG::3003"), "EPSG:3003");
        assert_eq!(
            normalize("http://www.opengis.net/def/crs/EPSG/0/32632"),
            "EPSG:32632"
        );
        assert_eq!(
            normalize("http://www.opengis.net/def/crs/OGC/1.3/CRS84"),
            CRS84
        );
        assert_eq!(normalize("CRS84"), CRS84);
        assert_eq!(
            uri("EPSG:32632"),
            "http://www.opengis.net/def/crs/EPSG/0/32632"
        );
        assert_eq!(uri(CRS84), "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
    }

    #[test]
    fn densified_outline_has_points_on_every_edge() {
        let r = Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 10.0, y: 20.0 });
        let o = densified_outline(r, 11);
        assert_eq!(o.len(), 40);
        assert!(o.contains(&Coord { x: 5.0, y: 0.0 }));
        assert!(o.contains(&Coord { x: 10.0, y: 10.0 }));
        assert!(o.contains(&Coord { x: 0.0, y: 18.0 }));
    }

    #[test]
    fn working_crs_must_be_metric_and_projected() {
        assert!(check_working_crs("EPSG:32632").is_ok());
        assert!(check_working_crs("EPSG:3003").is_ok());
        assert!(matches!(
            check_working_crs("EPSG:4326"),
            Err(CrsError::NotMetric { .. })
        ));
        // US survey feet
        assert!(matches!(
            check_working_crs("EPSG:2230"),
            Err(CrsError::NotMetric { .. })
        ));
        assert!(matches!(
            check_working_crs("EPSG:999999"),
            Err(CrsError::Unknown { .. })
        ));
    }

    #[test]
    fn axis_order_follows_the_authority() {
        // EPSG:4326 is latitude first, CRS84 longitude first; EPSG:6707 is the N-E variant of
        // RDN2008 / UTM 32N, EPSG:3003 and EPSG:32632 are east first.
        assert!(northing_first("EPSG:4326").unwrap());
        assert!(northing_first("http://www.opengis.net/def/crs/EPSG/0/4326").unwrap());
        assert!(!northing_first("OGC:CRS84").unwrap());
        assert!(northing_first("EPSG:6707").unwrap());
        assert!(!northing_first("EPSG:3003").unwrap());
        assert!(!northing_first("EPSG:32632").unwrap());
        assert!(!northing_first("EPSG:3857").unwrap());
        assert!(northing_first("urn:ogc:def:crs:EPSG::4258").unwrap());
        // ETRS89-LAEA Europe is northing, easting.
        assert!(northing_first("EPSG:3035").unwrap());
        assert!(matches!(
            northing_first("EPSG:999999"),
            Err(CrsError::Unknown { .. })
        ));
    }

    #[test]
    fn area_of_use_of_utm_32n() {
        // EPSG's area of use of WGS 84 / UTM 32N: 6°E to 12°E, equator to 84°N.
        let (area, name) = area_of_use("EPSG:32632").unwrap().unwrap();
        assert_eq!((area.min().x, area.max().x), (6.0, 12.0));
        assert_eq!((area.min().y, area.max().y), (0.0, 84.0));
        assert!(name.contains("6°E"), "{name}");
        assert!(area_of_use("+proj=utm +zone=32 +datum=WGS84")
            .unwrap()
            .is_none());
    }

    #[test]
    fn unknown_crs_is_named() {
        let e = Transformer::new("EPSG:999999", CRS84).unwrap_err();
        assert!(e.to_string().contains("EPSG:999999"), "{e}");
        let e = Transformer::new(CRS84, "EPSG:999998").unwrap_err();
        assert!(e.to_string().contains("EPSG:999998"), "{e}");
    }

    #[test]
    fn a_box_is_densified_not_cornered() {
        // A UTM box 100 km wide: its top edge bulges north in lon/lat (the corners alone
        // would give a smaller max latitude than the middle of the edge).
        let t = Transformer::new("EPSG:32632", CRS84).unwrap();
        let r = Rect::new(
            Coord {
                x: 400_000.0,
                y: 5_000_000.0,
            },
            Coord {
                x: 600_000.0,
                y: 5_100_000.0,
            },
        );
        let b = t.bounds(r).unwrap();
        let top_left = t
            .coord(Coord {
                x: 400_000.0,
                y: 5_100_000.0,
            })
            .unwrap();
        let top_mid = t
            .coord(Coord {
                x: 500_000.0,
                y: 5_100_000.0,
            })
            .unwrap();
        assert!(
            top_mid.y > top_left.y + 1e-3,
            "edge bulges: {top_mid:?} vs {top_left:?}"
        );
        assert!(b.max().y >= top_mid.y - 1e-12);
    }
}
