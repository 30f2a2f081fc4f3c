//! Query parameters: one strict reading for every resource ([`Query::check`]: unknown and
//! repeated parameters are a 400 naming them), and the typed parsers, each naming the
//! parameter and the value at fault.

use std::collections::HashSet;

use geo::{Coord, Rect};

use super::error::ApiError;
use super::param::Param;
use crate::crs::{self, OutputCrs};
use crate::ptcp::{check_distance, MAX_DISTANCE_M};
use crate::store::Layer;
use crate::time::{self, Span};

/// The query parameters of a request, in the order sent.
///
/// An empty value counts as the parameter left out ([`Query::get`], [`Query::has`]; see
/// [`super::param`] for why), except for equality filters, which read [`Query::pairs`].
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes a query string (`application/x-www-form-urlencoded`: `+` is a space), as
    /// `form_urlencoded::parse` does: pieces between `&` (empty ones skipped), the name
    /// before the first `=`, `+` a space, `%` and two hex digits a byte, anything else as it
    /// is, and invalid UTF-8 replaced. One pass per name and value, each decoded straight
    /// into a string of its length (the generic decoder copies and grows a buffer for each).
    pub fn parse(raw: Option<&str>) -> Query {
        let Some(raw) = raw.filter(|q| !q.is_empty()) else {
            return Query::default();
        };
        // `str::split` on one ASCII byte searches a word at a time; `&` and `=` are ASCII, so
        // every piece is a `str` slice of the query, valid UTF-8 already.
        let pairs = raw
            .split('&')
            .filter(|piece| !piece.is_empty())
            .map(|piece| {
                let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
                (form_decode(name), form_decode(value))
            })
            .collect();
        Query { pairs }
    }

    /// The value of a parameter, `None` when it is absent or empty (the first non-empty value
    /// if repeated: [`Query::check`] refuses that).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Whether a parameter is given with a value.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every parameter as sent, empty values included.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Refuses a parameter that is neither one of `params` nor accepted by `extra` (`extra_hint`
    /// then says what else is accepted; made only for that error), and any parameter given twice. A parameter given with
    /// an empty value counts as absent, except one accepted by `extra` (an equality filter,
    /// whose empty value is a value).
    pub fn check_with(
        &self,
        params: &[Param],
        extra: impl Fn(&str) -> bool,
        extra_hint: impl FnOnce() -> String,
    ) -> Result<(), ApiError> {
        // Names seen so far: a list on the stack for the usual handful, a hash set for a long
        // query.
        let few = self.pairs.len() <= 16;
        let mut seen_few: [&str; 16] = [""; 16];
        let mut n_few = 0;
        let mut seen_many: HashSet<&str> = HashSet::new();
        for (name, value) in &self.pairs {
            let declared = params.iter().find(|p| p.name() == name);
            if declared.is_none() && !extra(name) {
                let known: Vec<&str> = params.iter().map(Param::name).collect();
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {name:?} (parameters: {}{})",
                    known.join(", "),
                    extra_hint()
                )));
            }
            if value.is_empty() && declared.is_some_and(Param::empty_is_absent) {
                continue;
            }
            let first_time = if few {
                let new = !seen_few[..n_few].contains(&name.as_str());
                seen_few[n_few] = name;
                n_few += 1;
                new
            } else {
                seen_many.insert(name)
            };
            if !first_time {
                return Err(ApiError::bad_request(format!(
                    "parameter {name} is given more than once"
                )));
            }
        }
        for p in params.iter().filter(|p| p.required) {
            if !self.has(p.name()) {
                return Err(ApiError::bad_request(format!(
                    "parameter {} is required: {}",
                    p.name(),
                    p.description
                )));
            }
        }
        Ok(())
    }

    /// [`Query::check_with`] for a resource that takes only `params`.
    pub fn check(&self, params: &[Param]) -> Result<(), ApiError> {
        self.check_with(params, |_| false, String::new)
    }

    /// The query string with `replace` set (in place of any earlier value, at the end) and
    /// `drop` removed.
    pub fn rewritten(&self, drop: &[&str], replace: &[(&str, &str)]) -> String {
        let mut out = Vec::new();
        self.write_rewritten(&mut out, drop, replace);
        // The encoding writes ASCII only.
        String::from_utf8(out).unwrap_or_default()
    }

    /// [`Query::rewritten`] appended to `out`.
    pub fn write_rewritten(&self, out: &mut Vec<u8>, drop: &[&str], replace: &[(&str, &str)]) {
        let kept = self
            .pairs
            .iter()
            .filter(|(k, _)| !drop.contains(&k.as_str()) && !replace.iter().any(|(r, _)| r == k))
            .map(|(k, v)| (k.as_str(), v.as_str()));
        // Encoded text is at most three times as long as decoded.
        let room: usize = self
            .pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(replace.iter().copied())
            .map(|(k, v)| 3 * (k.len() + v.len()) + 2)
            .sum();
        out.reserve(room);
        let start = out.len();
        for (k, v) in kept.chain(replace.iter().copied()) {
            if out.len() > start {
                out.push(b'&');
            }
            form_encode(out, k);
            out.push(b'=');
            form_encode(out, v);
        }
    }
}

/// One name or value of a query string, decoded (see [`Query::parse`]): the text between
/// escapes is copied in runs. Text without `%` needs no check that it is UTF-8 (it is a piece
/// of a `str`, with at most `+` made a space).
fn form_decode(input: &str) -> String {
    if !input.as_bytes().contains(&b'%') {
        return if input.as_bytes().contains(&b'+') {
            input.replace('+', " ")
        } else {
            input.to_string()
        };
    }
    let hex = |b: Option<&u8>| b.and_then(|&b| (b as char).to_digit(16)).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input.as_bytes();
    while let Some(at) = rest.iter().position(|&b| b == b'%' || b == b'+') {
        out.extend_from_slice(&rest[..at]);
        if rest[at] == b'+' {
            out.push(b' ');
            rest = &rest[at + 1..];
            continue;
        }
        match (hex(rest.get(at + 1)), hex(rest.get(at + 2))) {
            (Some(high), Some(low)) => {
                out.push(high << 4 | low);
                rest = &rest[at + 3..];
            }
            _ => {
                out.push(b'%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.extend_from_slice(rest);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Appends `text` encoded as `application/x-www-form-urlencoded` does it (what
/// `form_urlencoded::byte_serialize` writes): ASCII letters, digits and `*-._` as they are
/// (copied in runs), a space as `+`, every other byte as `%` and two upper-case hex digits.
fn form_encode(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    // Whether each byte is written as it is: one look-up per byte.
    static UNCHANGED: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            table[b] = matches!(b as u8, b'*' | b'-' | b'.' | b'0'..=b'9' | b'A'..=b'Z' | b'_' | b'a'..=b'z');
            b += 1;
        }
        table
    };
    let mut rest = text.as_bytes();
    while let Some(at) = rest.iter().position(|&b| !UNCHANGED[b as usize]) {
        out.extend_from_slice(&rest[..at]);
        let b = rest[at];
        if b == b' ' {
            out.push(b'+');
        } else {
            out.extend_from_slice(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        }
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
}

/// A CRS parameter (`crs`, `bbox-crs`, `filter-crs`), given as a URI, a URN or `AUTH:CODE`.
pub fn crs_param(name: &str, value: &str, working_crs: &str) -> Result<OutputCrs, ApiError> {
    let list = crs::supported(working_crs);
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
        None => Ok(OutputCrs::crs84()),
    }
}

/// The position of property `name` in `layer`, for parameter `param`; a 400 listing the
/// properties otherwise.
pub fn field_param(layer: &Layer, param: &str, name: &str) -> Result<usize, ApiError> {
    layer.field_index(name).ok_or_else(|| {
        ApiError::bad_request(format!(
            "parameter {param}: {name:?} is not a property of layer {} (properties: {})",
            layer.id(),
            layer
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// The names of a comma-separated list (`properties`, `sortby`, `layers`), trimmed, empty ones
/// left out: `a,,b,` is `a,b`, and a list naming none is the same as an empty value.
pub fn names(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// A distance parameter in metres: a finite number from 0 to 200 km.
pub fn distance_param(name: &str, value: &str) -> Result<f64, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "parameter {name}: {value:?} is not a distance in metres from 0 to {MAX_DISTANCE_M}"
        ))
    };
    let v: f64 = value.trim().parse().map_err(|_| bad())?;
    check_distance(name, v).map_err(|_| bad())
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

/// The `datetime` parameter: an instant, a date, or `start/end` with `..` or nothing for an
/// open end (one parser with the CQL2 filter's dates: [`crate::time`]).
pub fn datetime_param(value: &str) -> Result<Span, ApiError> {
    time::parse_interval(value)
        .map_err(|e| ApiError::bad_request(format!("parameter datetime: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crs(id: &str) -> OutputCrs {
        OutputCrs::new(id).unwrap()
    }

    /// Deterministic pseudo-random query strings over the bytes that matter to the encoding:
    /// separators, `+`, `%` with and without hex digits, bytes of multi-byte and of invalid
    /// UTF-8 (as escapes), and text that needs no decoding.
    fn random_queries() -> Vec<String> {
        const PIECES: [&str; 24] = [
            "&",
            "=",
            "+",
            "%",
            "%2",
            "%20",
            "%2B",
            "%2b",
            "%3D",
            "%26",
            "%zz",
            "%C3%A8",
            "%FF",
            "%e2%82",
            "a",
            "Z",
            "0",
            "9",
            "filter",
            "S_INTERSECTS(geometry,POINT(",
            " ",
            "è",
            "~!*'()",
            ".-_",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..3000)
            .map(|_| {
                let len = (next() % 12) as usize;
                (0..len)
                    .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn queries_are_decoded_as_form_urlencoded_decodes_them() {
        for q in random_queries() {
            let expected: Vec<(String, String)> =
                form_urlencoded::parse(q.as_bytes()).into_owned().collect();
            assert_eq!(Query::parse(Some(&q)).pairs(), expected.as_slice(), "{q:?}");
        }
        assert!(Query::parse(None).pairs().is_empty());
        assert!(Query::parse(Some("")).pairs().is_empty());
    }

    #[test]
    fn rewritten_queries_are_encoded_as_form_urlencoded_encodes_them() {
        for q in random_queries() {
            let query = Query::parse(Some(&q));
            let mut expected = form_urlencoded::Serializer::new(String::new());
            for (k, v) in query.pairs() {
                if k != "f" && k != "limit" {
                    expected.append_pair(k, v);
                }
            }
            expected.append_pair("limit", "10");
            assert_eq!(
                query.rewritten(&["f"], &[("limit", "10")]),
                expected.finish(),
                "{q:?}"
            );
        }
    }

    #[test]
    fn impossible_dates_are_refused_like_in_filters() {
        let e = datetime_param("2026-02-31").unwrap_err();
        assert!(e.detail().contains("2026-02-31"), "{}", e.detail());
        assert!(datetime_param("2026-02-28/2026-03-01").is_ok());
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
