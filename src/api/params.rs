//! Parsing query parameters: each function names the parameter and the value at fault.

use geo::{Coord, Rect};

use super::error::ApiError;
use super::output::OutputCrs;
use crate::crs;

/// The CRSs a client may ask for (`crs`, `bbox-crs`, `filter-crs`), besides the working CRS.
pub const SUPPORTED_CRS: [&str; 6] = [
    crs::CRS84,
    "EPSG:4326",
    "EPSG:3857",
    "EPSG:32632",
    "EPSG:6707",
    "EPSG:3003",
];

/// The CRSs of the service, CRS84 first, the working CRS included once.
pub fn supported_crs(working_crs: &str) -> Vec<String> {
    let mut list: Vec<String> = SUPPORTED_CRS.iter().map(|s| s.to_string()).collect();
    let w = crs::normalize(working_crs);
    if !list.contains(&w) {
        list.push(w);
    }
    list
}

/// A CRS parameter (`crs`, `bbox-crs`, `filter-crs`), given as a URI, a URN or `AUTH:CODE`.
pub fn crs_param(name: &str, value: &str, working_crs: &str) -> Result<OutputCrs, ApiError> {
    let list = supported_crs(working_crs);
    let n = crs::normalize(value.trim_matches(['<', '>']));
    if !list.contains(&n) {
        return Err(ApiError::bad_request(format!(
            "parameter {name}: CRS {value:?} is not supported (supported: {})",
            list.iter()
                .map(|c| crs::uri(c))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    OutputCrs::new(&n).map_err(|e| ApiError::internal(format!("CRS {n}: {e}")))
}

/// A CRS parameter `name` of the request (`crs`, `bbox-crs`, `filter-crs`), CRS84 when absent.
pub fn crs_param_or_crs84(
    name: &str,
    value: Option<&str>,
    working_crs: &str,
) -> Result<OutputCrs, ApiError> {
    match value {
        Some(v) => crs_param(name, v, working_crs),
        None => OutputCrs::new(crate::crs::CRS84).map_err(ApiError::internal),
    }
}

/// A positive integer parameter.
pub fn usize_param(name: &str, value: &str) -> Result<usize, ApiError> {
    value.trim().parse::<usize>().map_err(|_| {
        ApiError::bad_request(format!(
            "parameter {name}: {value:?} is not a non-negative integer"
        ))
    })
}

/// A boolean parameter (`true` / `false`).
pub fn bool_param(name: &str, value: &str) -> Result<bool, ApiError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ApiError::bad_request(format!(
            "parameter {name}: {value:?} is not true or false"
        ))),
    }
}

/// A `bbox` of 4 or 6 numbers in the axis order of `bbox_crs`, returned as (east, north)
/// corners in that CRS. Heights of a 6-number box are ignored (the layers are 2D).
pub fn bbox_param(value: &str, bbox_crs: &OutputCrs) -> Result<Rect<f64>, ApiError> {
    let numbers: Result<Vec<f64>, _> = value.split(',').map(|s| s.trim().parse::<f64>()).collect();
    let numbers = numbers.map_err(|_| {
        ApiError::bad_request(format!(
            "parameter bbox: {value:?} is not a list of numbers"
        ))
    })?;
    let (a, b, c, d) = match numbers.as_slice() {
        [a, b, c, d] => (*a, *b, *c, *d),
        [a, b, _, d, e, _] => (*a, *b, *d, *e),
        _ => {
            return Err(ApiError::bad_request(format!(
                "parameter bbox: {} numbers given, 4 or 6 expected",
                numbers.len()
            )))
        }
    };
    if ![a, b, c, d].iter().all(|v| v.is_finite()) {
        return Err(ApiError::bad_request(
            "parameter bbox: numbers must be finite",
        ));
    }
    let (min, max) = if bbox_crs.northing_first {
        (Coord { x: b, y: a }, Coord { x: d, y: c })
    } else {
        (Coord { x: a, y: b }, Coord { x: c, y: d })
    };
    if min.y > max.y {
        return Err(ApiError::bad_request(format!(
            "parameter bbox: the lower {} {} is above the upper {}",
            if bbox_crs.northing_first {
                "latitude"
            } else {
                "northing"
            },
            min.y,
            max.y
        )));
    }
    if min.x > max.x {
        return Err(ApiError::bad_request(format!(
            "parameter bbox: the lower {} {} is greater than the upper {} (a box across the \
             antimeridian is not supported)",
            if bbox_crs.decimals == 7 {
                "longitude"
            } else {
                "easting"
            },
            min.x,
            max.x
        )));
    }
    if bbox_crs.decimals == 7 && (min.y < -90.0 || max.y > 90.0) {
        return Err(ApiError::bad_request(
            "parameter bbox: latitudes must lie between -90 and 90",
        ));
    }
    Ok(Rect::new(min, max))
}

/// A time span in seconds since 1970-01-01 UTC, both ends included; `None` is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Span {
    pub fn intersects(&self, other: &Span) -> bool {
        let starts_before_other_ends = match (self.start, other.end) {
            (Some(s), Some(e)) => s <= e,
            _ => true,
        };
        let ends_after_other_starts = match (self.end, other.start) {
            (Some(e), Some(s)) => e >= s,
            _ => true,
        };
        starts_before_other_ends && ends_after_other_starts
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (valid for years 0 to 9999).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// RFC 3339 text of a time in seconds since 1970-01-01 UTC.
pub fn rfc3339(seconds: i64) -> String {
    let (y, m, d) = civil_from_days(seconds.div_euclid(86_400));
    let s = seconds.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The span an ISO 8601 date (`2026-03-01`: the whole day) or RFC 3339 date-time
/// (`2026-03-01T10:00:00Z`, `...+01:00`: that second) covers. `None` when it is neither.
pub fn time_span(text: &str) -> Option<Span> {
    let t = text.trim();
    let date = t.get(0..10)?;
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i64 = date[0..4].parse().ok()?;
    let month: i64 = date[5..7].parse().ok()?;
    let day: i64 = date[8..10].parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let midnight = days_from_civil(year, month, day) * 86_400;
    let rest = &t[10..];
    if rest.is_empty() {
        return Some(Span {
            start: Some(midnight),
            end: Some(midnight + 86_399),
        });
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    if rest.len() < 8 || rest.as_bytes()[2] != b':' || rest.as_bytes()[5] != b':' {
        return None;
    }
    let h: i64 = rest[0..2].parse().ok()?;
    let mi: i64 = rest[3..5].parse().ok()?;
    let s: i64 = rest[6..8].parse().ok()?;
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut zone = &rest[8..];
    if let Some(frac) = zone.strip_prefix('.') {
        let digits = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if digits == 0 {
            return None;
        }
        zone = &frac[digits..];
    }
    let offset = match zone {
        "" | "Z" | "z" => 0,
        z if z.len() == 6 && (z.starts_with('+') || z.starts_with('-')) && &z[3..4] == ":" => {
            let oh: i64 = z[1..3].parse().ok()?;
            let om: i64 = z[4..6].parse().ok()?;
            let sign = if z.starts_with('-') { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let at = midnight + h * 3600 + mi * 60 + s - offset;
    Some(Span {
        start: Some(at),
        end: Some(at),
    })
}

/// The `datetime` parameter: an instant, or `start/end` with `..` or nothing for an open end.
pub fn datetime_param(value: &str) -> Result<Span, ApiError> {
    let bad = |what: &str| {
        ApiError::bad_request(format!(
            "parameter datetime: {what:?} is not an RFC 3339 date or date-time \
             (examples: 2026-03-01, 2026-03-01T10:00:00Z, 2026-01-01/.., ../2026-12-31)"
        ))
    };
    let open = |s: &str| s.is_empty() || s == "..";
    match value.split_once('/') {
        None => time_span(value).ok_or_else(|| bad(value)),
        Some((a, b)) => {
            if open(a) && open(b) {
                return Err(bad(value));
            }
            let start = if open(a) {
                None
            } else {
                time_span(a).ok_or_else(|| bad(a))?.start
            };
            let end = if open(b) {
                None
            } else {
                time_span(b).ok_or_else(|| bad(b))?.end
            };
            if let (Some(s), Some(e)) = (start, end) {
                if s > e {
                    return Err(ApiError::bad_request(format!(
                        "parameter datetime: the interval {value:?} ends before it starts"
                    )));
                }
            }
            Ok(Span { start, end })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crs(id: &str) -> OutputCrs {
        OutputCrs::new(id).unwrap()
    }

    #[test]
    fn days_match_known_dates() {
        // 2000-03-01 is day 11017 (30 years of 365 days + 7 leap days + Jan 31 + Feb 29).
        assert_eq!(days_from_civil(2000, 3, 1), 30 * 365 + 7 + 31 + 29);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            civil_from_days(days_from_civil(2026, 11, 30)),
            (2026, 11, 30)
        );
        assert_eq!(rfc3339(86_400 + 3_661), "1970-01-02T01:01:01Z");
    }

    #[test]
    fn time_spans_cover_days_and_instants() {
        let day = time_span("2026-03-01").unwrap();
        assert_eq!(day.end.unwrap() - day.start.unwrap(), 86_399);
        let instant = time_span("2026-03-01T10:00:00+01:00").unwrap();
        assert_eq!(instant.start.unwrap() - day.start.unwrap(), 9 * 3600);
        assert_eq!(time_span("2026-03-01T09:00:00.250Z"), Some(instant));
        assert!(time_span("2026-13-01").is_none());
        assert!(time_span("yesterday").is_none());
    }

    #[test]
    fn datetime_intervals_may_be_open_but_not_reversed() {
        let s = datetime_param("2026-01-01/..").unwrap();
        assert!(s.end.is_none() && s.start.is_some());
        // QGIS sends far bounds instead of "..".
        assert!(datetime_param("0000-01-01T00:00:00Z/9999-12-31T23:59:59Z").is_ok());
        assert!(datetime_param("../..").is_err());
        assert!(datetime_param("2026-02-01/2026-01-01").is_err());
        let s = datetime_param("2026-01-01/2026-01-31").unwrap();
        assert!(s.intersects(&time_span("2026-01-31").unwrap()));
        assert!(!s.intersects(&time_span("2026-02-01").unwrap()));
    }

    #[test]
    fn bbox_axis_order_follows_the_crs() {
        let lonlat = bbox_param("9.9,45.1,10.1,45.2", &crs("OGC:CRS84")).unwrap();
        let latlon = bbox_param("45.1,9.9,45.2,10.1", &crs("EPSG:4326")).unwrap();
        assert_eq!(lonlat, latlon);
        assert_eq!(lonlat.min(), Coord { x: 9.9, y: 45.1 });
        // A CRS84 box written lat,lon is caught by its latitude range.
        assert!(bbox_param("45.1,9.9,45.2,100.0", &crs("OGC:CRS84")).is_err());
        let six = bbox_param("9.9,45.1,0,10.1,45.2,100", &crs("OGC:CRS84")).unwrap();
        assert_eq!(six, lonlat);
        for bad in ["1,2,3", "a,b,c,d", "10,45,9,46", "9,46,10,45", "NaN,1,2,3"] {
            let e = bbox_param(bad, &crs("OGC:CRS84")).unwrap_err();
            assert!(e.detail().contains("bbox"), "{}", e.detail());
        }
    }

    #[test]
    fn unsupported_crs_lists_the_supported_ones() {
        let e = crs_param("crs", "EPSG:2154", "EPSG:32632").unwrap_err();
        assert!(e.detail().contains("EPSG/0/3003"), "{}", e.detail());
        let c = crs_param(
            "crs",
            "http://www.opengis.net/def/crs/EPSG/0/4326",
            "EPSG:32632",
        )
        .unwrap();
        assert!(c.northing_first);
    }
}
