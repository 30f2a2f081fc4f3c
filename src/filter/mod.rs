//! Filters: OGC API - Features Part 3 (CQL2) expressions, compiled against one layer's schema
//! and evaluated over its features.
//!
//! A filter arrives as cql2-text or cql2-json (parsed by the `cql2` crate), is type-checked
//! against the layer's [queryables] and compiled into a small tree ([`Filter`]) whose
//! spatial literals are already in the working CRS. Nothing here knows about HTTP: the API layer
//! maps `filter`, `filter-lang` and `filter-crs` onto [`Filter::compile`] and [`FilterError`] onto
//! a 400 response.
//!
//! What is supported (and declared in [`CONFORMANCE`]):
//! - basic CQL2: `=, <>, <, <=, >, >=`, `AND`, `OR`, `NOT`, `IS [NOT] NULL`, booleans, numbers,
//!   strings, property references (also `"quoted"`), parentheses;
//! - advanced comparison operators: `[NOT] LIKE` (`%`, `_`, `\` escapes), `[NOT] BETWEEN`,
//!   `[NOT] IN`;
//! - case-insensitive comparison: `CASEI(...)` around string properties and literals;
//! - spatial functions: `S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, S_TOUCHES, S_CROSSES,
//!   S_OVERLAPS, S_EQUALS` between the `geometry` property and a literal (POINT, LINESTRING,
//!   POLYGON, MULTI*, GEOMETRYCOLLECTION, BBOX), either way round;
//! - dates: `DATE('2026-01-01')` against date fields, `TIMESTAMP('...')` against date-time
//!   fields; a plain ISO string literal is accepted in their place.
//!
//! Not supported, refused at compile time with [`FilterError::Unsupported`]: temporal operators
//! (`T_*`), array operators (`A_*`), arithmetic, `ACCENTI`, other functions, and spatial
//! operators between two properties.
//!
//! Semantics worth knowing:
//! - Logic is SQL's three-valued logic. A comparison involving a NULL value is *unknown*, and so
//!   is `NOT` of it; a feature matches only when the whole filter is *true*. `x <> 5` and
//!   `NOT x = 5` therefore both leave out features whose `x` is NULL; only `IS NULL` finds them.
//! - Integer and real properties compare numerically (as `f64`).
//! - Strings compare by Unicode code point; `CASEI` lower-cases (Unicode) both sides it wraps.
//! - Spatial literals are in `filter-crs` (default [`crate::crs::CRS84`]) *in that CRS's axis
//!   order*: `EPSG:4326` literals are (lat, lon). They are validated and moved to the working
//!   CRS once, at compile time; a `BBOX` in another CRS becomes a densified polygon.
//! - Features with an invalid geometry take part in `S_INTERSECTS` and `S_DISJOINT` (robust on
//!   any input), like [`crate::analysis::select`]; for the DE-9IM operators (`S_WITHIN`,
//!   `S_CONTAINS`, `S_TOUCHES`, `S_CROSSES`, `S_OVERLAPS`, `S_EQUALS`) their answer is
//!   *unknown*, so they match neither the predicate nor its negation.
//!
//! Cost: compiling is dominated by parsing (a few microseconds for short filters; the filters
//! maps send most, a point or box intersection and equalities joined by `AND`, take a fast path
//! that reads them in one pass, see `fast`) and, for
//! spatial literals, by the coordinate transformation; PROJ transformers and axis-order answers
//! are cached per thread, so only the first filter in a new CRS on a thread pays their
//! millisecond. [`Filter::matches`] is O(size of the filter) for attributes plus one exact
//! geometry test per spatial operator; [`Filter::select`] uses the R-tree when the filter
//! restricts space (O(log n + k) candidates) and scans the layer otherwise.

mod compile;
pub use compile::{MAX_DEPTH, MAX_OPERATORS};
mod eval;
mod fast;
mod spatial;
mod typing;

use std::fmt;
use std::str::FromStr;

use geo::Rect;

use crate::crs::CrsError;
use crate::feature::{Feature, FieldType};
use crate::store::Layer;

use eval::{Node, Space};

/// The name of the geometry queryable of every layer.
pub const GEOMETRY_PROPERTY: &str = "geometry";

/// The CQL2 conformance classes this module implements (OGC 21-065r2), for the API's
/// `/conformance` document.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
];

/// The encoding of a filter (`filter-lang`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterLang {
    Cql2Text,
    Cql2Json,
}

impl FilterLang {
    /// The `filter-lang` value (`cql2-text`, `cql2-json`).
    pub fn name(self) -> &'static str {
        match self {
            FilterLang::Cql2Text => "cql2-text",
            FilterLang::Cql2Json => "cql2-json",
        }
    }
}

impl fmt::Display for FilterLang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FilterLang {
    type Err = FilterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cql2-text" => Ok(FilterLang::Cql2Text),
            "cql2-json" => Ok(FilterLang::Cql2Json),
            other => Err(FilterError::UnknownLang(other.to_string())),
        }
    }
}

/// Why a filter cannot be compiled. Every message names the problem and the offending part.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("unknown filter-lang {0:?}: use cql2-text or cql2-json")]
    UnknownLang(String),
    #[error("{lang} syntax error: {message}")]
    Syntax { lang: FilterLang, message: String },
    #[error("filter is nested too deeply (more than {max} levels)")]
    TooDeep { max: usize },
    #[error(
        "filter has too many operators (more than {max}); an IN list can replace a chain of OR"
    )]
    TooManyOperators { max: usize },
    #[error("unknown property {property:?}: the queryables of layer {layer:?} are {queryables}")]
    UnknownProperty {
        property: String,
        layer: String,
        queryables: String,
    },
    #[error(
        "type mismatch: property {property:?} is {ty}, it cannot be compared with {literal} ({literal_type})"
    )]
    TypeMismatch {
        property: String,
        ty: &'static str,
        literal: String,
        literal_type: &'static str,
    },
    #[error("type mismatch: property {left:?} is {left_ty}, property {right:?} is {right_ty}")]
    PropertyTypes {
        left: String,
        left_ty: &'static str,
        right: String,
        right_ty: &'static str,
    },
    #[error("unsupported {what} {name:?}: {reason}")]
    Unsupported {
        what: &'static str,
        name: String,
        reason: String,
    },
    #[error("invalid use of {operator}: {reason}")]
    Invalid { operator: String, reason: String },
    #[error("bad literal {literal}: {reason}")]
    BadLiteral { literal: String, reason: String },
    #[error("bad geometry literal {literal}: {reason}")]
    BadGeometry { literal: String, reason: String },
    #[error("filter-crs {crs:?}: {source}")]
    Crs {
        crs: String,
        #[source]
        source: CrsError,
    },
}

/// A queryable of a layer: a field, or the geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct Queryable {
    pub name: String,
    pub ty: QueryableType,
}

/// The type of a queryable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryableType {
    Field(FieldType),
    /// The feature geometry ([`GEOMETRY_PROPERTY`]).
    Geometry,
}

/// The queryables of a layer: its fields (name and type, in schema order) plus the geometry
/// property [`GEOMETRY_PROPERTY`]. Exactly these names may appear in a filter.
pub fn queryables(layer: &Layer) -> Vec<Queryable> {
    layer
        .fields
        .iter()
        .map(|f| Queryable {
            name: f.name.clone(),
            ty: QueryableType::Field(f.ty),
        })
        .chain(std::iter::once(Queryable {
            name: GEOMETRY_PROPERTY.to_string(),
            ty: QueryableType::Geometry,
        }))
        .collect()
}

/// A compiled filter, bound to the schema of the layer it was compiled for. Immutable; share
/// it across threads freely.
#[derive(Debug)]
pub struct Filter {
    root: Node,
    space: Space,
}

impl Filter {
    /// Parses, type-checks and compiles `text` for `layer`.
    ///
    /// `filter_crs`: the CRS of geometry literals (any spelling [`crate::crs::normalize`] knows,
    /// e.g. `OGC:CRS84`, `EPSG:4326` in its official lat/lon order, `EPSG:3003`); it is only
    /// looked at when the filter has a spatial literal. `working_crs`: the CRS of the layer's
    /// geometries.
    ///
    /// ```
    /// # use territorio::filter::{Filter, FilterLang};
    /// # fn demo(layer: &territorio::store::Layer) -> Result<(), territorio::filter::FilterError> {
    /// let f = Filter::compile(
    ///     "kind = 'industrial' AND S_INTERSECTS(geometry, POINT(9.99 45.12))",
    ///     FilterLang::Cql2Text,
    ///     layer,
    ///     "OGC:CRS84",
    ///     "EPSG:32632",
    /// )?;
    /// let hits: Vec<u32> = f.select(layer);
    /// # Ok(()) }
    /// ```
    pub fn compile(
        text: &str,
        lang: FilterLang,
        layer: &Layer,
        filter_crs: &str,
        working_crs: &str,
    ) -> Result<Filter, FilterError> {
        let ctx = compile::Context::new(layer, filter_crs, working_crs);
        let fast = match lang {
            FilterLang::Cql2Text => fast::compile(text, &ctx),
            FilterLang::Cql2Json => None,
        };
        let root = match fast {
            Some(root) => root,
            None => compile::general(text, lang, &ctx)?,
        };
        let space = root.space();
        Ok(Filter { root, space })
    }

    /// Whether `feature` (of the layer the filter was compiled for) matches: the filter
    /// evaluates to *true* (not false, not unknown).
    pub fn matches(&self, feature: &Feature) -> bool {
        self.root.eval(feature) == Some(true)
    }

    /// A working-CRS box that the envelope of every matching feature intersects, derived from
    /// the spatial operators that require intersection (all but `S_DISJOINT`): through `AND`
    /// the smallest of its branches' boxes, through `OR` the union when every branch has one.
    /// `None` when the filter does not restrict space (`NOT`, `S_DISJOINT`, an `OR` with a
    /// non-spatial branch) or can match nothing at all (`FALSE`).
    pub fn envelope(&self) -> Option<Rect<f64>> {
        match self.space {
            Space::Box(r) => Some(r),
            Space::All | Space::Nothing => None,
        }
    }

    /// Whether the filter can match any feature at all (`FALSE`, or a conjunction with it,
    /// cannot).
    pub fn can_match(&self) -> bool {
        !matches!(self.space, Space::Nothing)
    }

    /// [`select`](Self::select) when the filter restricts space and the R-tree gives at most
    /// `max` candidates; `None` otherwise (having looked at no more than `max + 1` of them), so
    /// that a caller can do a large selection elsewhere (a blocking thread) and a small one at
    /// once.
    pub fn select_bounded(&self, layer: &Layer, max: usize) -> Option<Vec<u32>> {
        let candidates: Vec<u32> = match self.space {
            Space::Nothing => return Some(Vec::new()),
            Space::All => return None,
            Space::Box(r) if r.min() == r.max() => {
                let mut found = Vec::new();
                if !layer.at_point([r.min().x, r.min().y], max, &mut found) {
                    return None;
                }
                found
            }
            Space::Box(r) => {
                let found: Vec<u32> = layer.candidates(&r).take(max + 1).collect();
                if found.len() > max {
                    return None;
                }
                found
            }
        };
        let mut out: Vec<u32> = candidates
            .into_iter()
            .filter(|&i| self.matches(&layer.features[i as usize]))
            .collect();
        out.sort_unstable();
        Some(out)
    }

    /// The features of `layer` that match, as positions in `layer.features`, ascending.
    ///
    /// Cost: with an [`envelope`](Self::envelope), O(log n + k) R-tree work for k candidates
    /// plus k evaluations; without, n evaluations. A filter that can match nothing costs
    /// nothing.
    pub fn select(&self, layer: &Layer) -> Vec<u32> {
        let mut out: Vec<u32> = match self.space {
            Space::Nothing => Vec::new(),
            Space::All => (0..layer.features.len() as u32)
                .filter(|&i| self.matches(&layer.features[i as usize]))
                .collect(),
            Space::Box(r) if r.min() == r.max() => {
                let mut found = Vec::new();
                layer.at_point([r.min().x, r.min().y], usize::MAX, &mut found);
                found.retain(|&i| self.matches(&layer.features[i as usize]));
                found
            }
            Space::Box(r) => layer
                .candidates(&r)
                .filter(|&i| self.matches(&layer.features[i as usize]))
                .collect(),
        };
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests;
