//! Presentation: the documents territorio answers and the text it writes for people, made once
//! from the results of [`crate::ptcp`] and used both by the command line and by the HTTP API.
//!
//! - [`report`]: a site report's plain-language summary, its heading and text, and its JSON
//!   document;
//! - [`indicators`]: the indicators' JSON document, their CSV (long format) and the
//!   municipalities with their values for a choropleth;
//! - [`monitoring`]: the CSV of the monitoring at one instant and of its monthly series.
//!
//! Numbers are rounded here, and only here (the documents carry them unrounded). Nothing here
//! knows about HTTP: the API adds its links and writes geometries through its own cache.

pub mod indicators;
pub mod monitoring;
pub mod report;

use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::crs::CrsError;
use crate::ptcp::ReportError;

/// What can go wrong making a document.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Roles(#[from] ReportError),
    #[error("writing a JSON document: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a JSON document must be an object, not {0}")]
    NotAnObject(&'static str),
    #[error(transparent)]
    Crs(#[from] CrsError),
}

/// `value` as a JSON object (its members in the order it writes them).
pub fn object<T: Serialize + ?Sized>(value: &T) -> Result<Map<String, Json>, DocumentError> {
    match serde_json::to_value(value)? {
        Json::Object(members) => Ok(members),
        Json::Array(_) => Err(DocumentError::NotAnObject("an array")),
        Json::String(_) => Err(DocumentError::NotAnObject("a string")),
        Json::Number(_) => Err(DocumentError::NotAnObject("a number")),
        Json::Bool(_) => Err(DocumentError::NotAnObject("a boolean")),
        Json::Null => Err(DocumentError::NotAnObject("null")),
    }
}

/// `1234567.8` -> `"1,234,568"`.
pub fn thousands(v: f64) -> String {
    let n = v.round();
    let digits = format!("{}", n.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A distance for people: `850 m`, `12.4 km`.
pub fn distance_text(m: f64) -> String {
    if m < 1_000.0 {
        format!("{} m", m.round())
    } else {
        format!("{:.1} km", m / 1_000.0)
    }
}

/// A share for people: `42.9%`; whole numbers near 0% and 100% (`0%`, `100%`).
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if !(0.05..99.95).contains(&p) {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value whose serialisation fails, as a map with a non-text key does in JSON.
    struct Unwritable;

    impl Serialize for Unwritable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("cannot be written"))
        }
    }

    #[test]
    fn a_document_that_cannot_be_written_is_an_error_not_an_empty_body() {
        assert!(matches!(object(&Unwritable), Err(DocumentError::Json(_))));
        let mut keys = std::collections::BTreeMap::new();
        keys.insert((1, 2), "a tuple key has no JSON form");
        assert!(matches!(object(&keys), Err(DocumentError::Json(_))));
        assert!(matches!(
            object(&[1, 2]),
            Err(DocumentError::NotAnObject("an array"))
        ));
        let members = object(&serde_json::json!({"b": 1, "a": 2})).unwrap();
        assert_eq!(members.keys().collect::<Vec<_>>(), ["b", "a"]);
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(thousands(1_234_567.8), "1,234,568");
        assert_eq!(thousands(-1_000.0), "-1,000");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(distance_text(849.6), "850 m");
        assert_eq!(distance_text(12_449.0), "12.4 km");
        assert_eq!(percent(3.0 / 7.0), "42.9%");
        assert_eq!(percent(0.0004), "0%");
        assert_eq!(percent(1.0), "100%");
    }
}
