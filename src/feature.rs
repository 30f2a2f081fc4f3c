//! The feature model shared by every stage: typed property values, the field schema of a layer,
//! feature identifiers and the feature itself (geometry in the working CRS).

use std::cmp::Ordering;
use std::fmt;

use geo::{Coord, Geometry, Rect};

/// The type of a layer field, as read from the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Bool,
    Int,
    Real,
    String,
    /// A calendar date, kept as ISO 8601 text (`2026-03-01`).
    Date,
    /// A date and time, kept as RFC 3339 text.
    DateTime,
}

impl FieldType {
    /// The name used in schemas and in `territorio check` output.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Bool => "boolean",
            FieldType::Int => "integer",
            FieldType::Real => "real",
            FieldType::String => "string",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
        }
    }
}

/// One field of a layer's schema. Fields keep the order they have in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: FieldType,
}

/// The text of a property value: shared, so that a layer's repeated values (a zone's kind, a
/// municipality's name) are held once (see [`Interner`]) and a copy of a value costs a
/// reference count, not an allocation. A thin pointer (8 bytes: the length lives in the
/// allocation, beside the count), where `Arc<str>` is 16.
pub type Text = arcstr::ArcStr;

/// A property value. Dates are ISO 8601 text so they round-trip to JSON unchanged.
///
/// 16 bytes: text is a [`Text`] (8), not an `Arc<str>` (16, which made every value 24) nor a
/// `String` (24, 32 a value).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    String(Text),
    Date(Text),
    DateTime(Text),
}

impl Value {
    /// The value as JSON, as it appears in GeoJSON `properties`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            // Non-finite reals have no JSON form: they become null rather than invalid JSON.
            Value::Real(r) => serde_json::Number::from_f64(*r)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) | Value::Date(s) | Value::DateTime(s) => {
                serde_json::Value::String(s.to_string())
            }
        }
    }

    /// The value as a grouping key (for totals grouped by a property).
    pub fn as_key(&self) -> String {
        match self {
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Real(r) => write!(f, "{r}"),
            Value::String(s) | Value::Date(s) | Value::DateTime(s) => f.write_str(s),
        }
    }
}

/// Hands out one [`Text`] per distinct string while a layer is read (one interner per field),
/// so that the layer holds each repeated value once: a million zones whose `kind` is one of
/// six words hold six texts, not a million.
///
/// Only the first [`Interner::MAX_DISTINCT`] distinct strings are kept for sharing: a field
/// whose values are all different (a name, a code) gains nothing from sharing, and its table
/// would cost more than its texts while the layer loads. Lookups cost one hash of the string.
#[derive(Debug, Default)]
pub struct Interner {
    seen: std::collections::HashSet<Text>,
}

impl Interner {
    /// Distinct strings kept for sharing (about 2 MB of table at most).
    pub const MAX_DISTINCT: usize = 1 << 16;

    /// `s` as a [`Text`], the same allocation as an earlier equal one when there was one.
    pub fn text(&mut self, s: &str) -> Text {
        if let Some(t) = self.seen.get(s) {
            return t.clone();
        }
        let t = Text::from(s);
        if self.seen.len() < Self::MAX_DISTINCT {
            self.seen.insert(t.clone());
        }
        t
    }
}

/// A feature identifier: the source FID, or the value of the layer's `id_field`.
///
/// Identifiers are totally ordered (integers before strings) so that ties in proximity
/// queries are broken the same way on every run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FeatureId {
    Int(i64),
    /// Boxed rather than a `String`: 16 bytes a feature instead of 24, for the capacity an
    /// identifier never uses.
    Str(Box<str>),
}

impl Ord for FeatureId {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (FeatureId::Int(a), FeatureId::Int(b)) => a.cmp(b),
            (FeatureId::Str(a), FeatureId::Str(b)) => a.cmp(b),
            (FeatureId::Int(_), FeatureId::Str(_)) => Ordering::Less,
            (FeatureId::Str(_), FeatureId::Int(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for FeatureId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for FeatureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeatureId::Int(i) => write!(f, "{i}"),
            FeatureId::Str(s) => f.write_str(s),
        }
    }
}

impl FeatureId {
    /// The identifier as JSON (a number or a string, as GeoJSON allows).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FeatureId::Int(i) => serde_json::Value::from(*i),
            FeatureId::Str(s) => serde_json::Value::String(s.to_string()),
        }
    }
}

/// A feature of a loaded layer. Its geometry is in the catalogue's working CRS.
///
/// A layer holds a million of these at the scale `scripts/bench-scale` measures, so the record
/// is kept small: 104 bytes besides what its parts allocate (an id of 16, the geometry's 56, a
/// boxed slice of values of 16 and a boxed message of 16; with a `String` id, a `Vec` of values
/// and a `String` message it was 128).
#[derive(Debug, Clone)]
pub struct Feature {
    pub id: FeatureId,
    pub geometry: Geometry<f64>,
    /// Property values, one per field of the layer, in field order.
    pub values: Box<[Value]>,
    /// Why the geometry is invalid, when it is. Invalid features are still served,
    /// but left out of area and length maths. A [`Text`] (8 bytes) rather than a `Box<str>`
    /// (16): the reason is rare, the field is in every feature.
    pub invalid: Option<Text>,
}

impl Feature {
    /// Whether the geometry passed validation.
    pub fn is_valid(&self) -> bool {
        self.invalid.is_none()
    }
}

/// The name of a geometry's type, as in GeoJSON.
pub fn geometry_type_name(geometry: &Geometry<f64>) -> &'static str {
    match geometry {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) => "LineString",
        Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Polygon",
        Geometry::Triangle(_) => "Polygon",
    }
}

/// The smallest box that holds boxes `a` and `b` (in one CRS).
pub fn rect_union(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        Coord {
            x: a.min().x.min(b.min().x),
            y: a.min().y.min(b.min().y),
        },
        Coord {
            x: a.max().x.max(b.max().x),
            y: a.max().y.max(b.max().y),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_union_of_boxes_holds_both() {
        let a = Rect::new((0.0, 0.0), (2.0, 1.0));
        let b = Rect::new((1.0, -3.0), (1.5, 4.0));
        assert_eq!(rect_union(a, b), Rect::new((0.0, -3.0), (2.0, 4.0)));
        assert_eq!(rect_union(b, a), rect_union(a, b));
        // A box inside the other: the other; apart: the span of both.
        assert_eq!(rect_union(a, Rect::new((0.5, 0.5), (1.0, 1.0))), a);
        let far = Rect::new((10.0, 10.0), (11.0, 12.0));
        assert_eq!(rect_union(a, far), Rect::new((0.0, 0.0), (11.0, 12.0)));
    }

    #[test]
    fn ids_order_integers_before_strings() {
        let mut ids = vec![
            FeatureId::Str("b".into()),
            FeatureId::Int(10),
            FeatureId::Str("a".into()),
            FeatureId::Int(2),
        ];
        ids.sort();
        assert_eq!(
            ids,
            vec![
                FeatureId::Int(2),
                FeatureId::Int(10),
                FeatureId::Str("a".into()),
                FeatureId::Str("b".into())
            ]
        );
    }

    #[test]
    fn records_keep_their_sizes() {
        // What a million features cost besides their coordinates rests on these.
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::size_of::<FeatureId>(), 16);
        assert_eq!(std::mem::size_of::<Feature>(), 96);
    }

    #[test]
    fn the_interner_shares_equal_texts_up_to_its_bound() {
        let mut interner = Interner::default();
        let a = interner.text("industrial");
        let b = interner.text(&String::from("industrial"));
        assert!(Text::ptr_eq(&a, &b));
        assert_eq!(&*a, "industrial");
        let c = interner.text("residential");
        assert!(!Text::ptr_eq(&a, &c));
        // Past the bound, new texts are still made, equal to what was asked, but not shared.
        for i in 0..Interner::MAX_DISTINCT {
            interner.text(&format!("n{i}"));
        }
        let d = interner.text("late");
        let e = interner.text("late");
        assert_eq!((&*d, &*e), ("late", "late"));
        assert!(!Text::ptr_eq(&d, &e));
        // What was kept before the bound is still shared.
        assert!(Text::ptr_eq(&a, &interner.text("industrial")));
    }

    #[test]
    fn non_finite_reals_become_null_json() {
        assert_eq!(Value::Real(f64::NAN).to_json(), serde_json::Value::Null);
        assert_eq!(Value::Real(1.5).to_json(), serde_json::json!(1.5));
    }
}
