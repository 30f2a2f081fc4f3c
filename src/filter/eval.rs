//! The compiled form of a filter and its evaluation over one feature, in SQL's three-valued
//! logic (`Some(true)`, `Some(false)`, `None` = unknown).

use std::borrow::Cow;
use std::cmp::Ordering;

use geo::Rect;

use super::spatial::SpatialTest;
use crate::feature::{Feature, Value};

/// The comparable kinds of values. Int and Real fields are both `Number`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Number,
    String,
    Bool,
    Date,
    Timestamp,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Bool => "a boolean",
            Kind::Date => "a date",
            Kind::Timestamp => "a timestamp",
        }
    }

    pub(crate) fn ordered(self) -> bool {
        self != Kind::Bool
    }
}

/// A literal, already converted to the kind it is compared as.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Num(f64),
    Str(String),
    Bool(bool),
    /// Days since 1970-01-01.
    Date(i64),
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    Time(i128),
}

/// A value during evaluation, borrowing feature strings where it can.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ScalarRef<'a> {
    Num(f64),
    Str(Cow<'a, str>),
    Bool(bool),
    Date(i64),
    Time(i128),
}

impl ScalarRef<'_> {
    fn compare(&self, other: &ScalarRef<'_>) -> Option<Ordering> {
        match (self, other) {
            (ScalarRef::Num(a), ScalarRef::Num(b)) => a.partial_cmp(b),
            (ScalarRef::Str(a), ScalarRef::Str(b)) => Some(a.as_ref().cmp(b.as_ref())),
            (ScalarRef::Bool(a), ScalarRef::Bool(b)) => Some(a.cmp(b)),
            (ScalarRef::Date(a), ScalarRef::Date(b)) => Some(a.cmp(b)),
            (ScalarRef::Time(a), ScalarRef::Time(b)) => Some(a.cmp(b)),
            // Kinds are checked at compile time; a value of another kind in the data
            // (a malformed source) is unknown rather than a panic.
            _ => None,
        }
    }
}

/// One side of a comparison.
#[derive(Debug, Clone)]
pub(crate) enum Operand {
    /// A property: its position in `Feature::values`, the kind it is compared as, and whether
    /// `CASEI` wraps it.
    Field {
        index: usize,
        kind: Kind,
        casei: bool,
    },
    Lit(Scalar),
    Null,
}

impl Operand {
    pub(crate) fn eval<'a>(&'a self, feature: &'a Feature) -> Option<ScalarRef<'a>> {
        match self {
            Operand::Null => None,
            Operand::Lit(s) => Some(match s {
                Scalar::Num(n) => ScalarRef::Num(*n),
                Scalar::Str(s) => ScalarRef::Str(Cow::Borrowed(s)),
                Scalar::Bool(b) => ScalarRef::Bool(*b),
                Scalar::Date(d) => ScalarRef::Date(*d),
                Scalar::Time(t) => ScalarRef::Time(*t),
            }),
            Operand::Field { index, kind, casei } => {
                let v = feature.values.get(*index)?;
                match (kind, v) {
                    (_, Value::Null) => None,
                    (Kind::Number, Value::Int(i)) => Some(ScalarRef::Num(*i as f64)),
                    (Kind::Number, Value::Real(r)) => Some(ScalarRef::Num(*r)),
                    (Kind::String, Value::String(s)) => Some(ScalarRef::Str(if *casei {
                        Cow::Owned(s.to_lowercase())
                    } else {
                        Cow::Borrowed(s)
                    })),
                    (Kind::Bool, Value::Bool(b)) => Some(ScalarRef::Bool(*b)),
                    (Kind::Date, Value::Date(s) | Value::String(s)) => {
                        crate::time::parse_date(s).map(ScalarRef::Date)
                    }
                    (Kind::Timestamp, Value::DateTime(s) | Value::String(s)) => {
                        crate::time::parse_timestamp(s, crate::time::Zone::MayOmit)
                            .map(ScalarRef::Time)
                    }
                    _ => None,
                }
            }
        }
    }

    pub(crate) fn is_null_in(&self, feature: &Feature) -> bool {
        match self {
            Operand::Null => true,
            Operand::Lit(_) => false,
            Operand::Field { index, .. } => {
                matches!(feature.values.get(*index), Some(Value::Null) | None)
            }
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn holds(self, o: Ordering) -> bool {
        match self {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        }
    }
}

/// A compiled filter expression.
#[derive(Debug)]
pub(crate) enum Node {
    Const(Option<bool>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Cmp(CmpOp, Operand, Operand),
    Like(Operand, LikePattern),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    IsNull(Operand),
    Spatial(Box<SpatialTest>),
}

impl Node {
    pub(crate) fn eval(&self, f: &Feature) -> Option<bool> {
        match self {
            Node::Const(b) => *b,
            Node::And(nodes) => {
                let mut unknown = false;
                for n in nodes {
                    match n.eval(f) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                if unknown {
                    None
                } else {
                    Some(true)
                }
            }
            Node::Or(nodes) => {
                let mut unknown = false;
                for n in nodes {
                    match n.eval(f) {
                        Some(true) => return Some(true),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                if unknown {
                    None
                } else {
                    Some(false)
                }
            }
            Node::Not(n) => n.eval(f).map(|b| !b),
            Node::Cmp(op, a, b) => {
                let (a, b) = (a.eval(f)?, b.eval(f)?);
                a.compare(&b).map(|o| op.holds(o))
            }
            Node::Like(v, pattern) => match v.eval(f)? {
                ScalarRef::Str(s) => Some(pattern.matches(&s)),
                _ => None,
            },
            Node::Between(v, lo, hi) => {
                let v = v.eval(f);
                let low = match (&v, lo.eval(f)) {
                    (Some(v), Some(lo)) => v.compare(&lo).map(|o| o != Ordering::Less),
                    _ => None,
                };
                let high = match (&v, hi.eval(f)) {
                    (Some(v), Some(hi)) => v.compare(&hi).map(|o| o != Ordering::Greater),
                    _ => None,
                };
                // low AND high, three-valued.
                match (low, high) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                }
            }
            Node::In(v, list) => {
                let v = v.eval(f)?;
                let mut unknown = false;
                for item in list {
                    match item.eval(f).and_then(|i| v.compare(&i)) {
                        Some(Ordering::Equal) => return Some(true),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                if unknown {
                    None
                } else {
                    Some(false)
                }
            }
            Node::IsNull(o) => Some(o.is_null_in(f)),
            Node::Spatial(s) => s.eval(f),
        }
    }

    /// Where matching features can be, from the spatial operators that need intersection.
    pub(crate) fn space(&self) -> Space {
        match self {
            Node::Const(Some(true)) => Space::All,
            Node::Const(_) => Space::Nothing,
            Node::Spatial(s) => match s.required_box() {
                Some(r) => Space::Box(r),
                None => Space::All,
            },
            Node::And(nodes) => nodes.iter().fold(Space::All, |acc, n| acc.and(n.space())),
            Node::Or(nodes) => nodes
                .iter()
                .fold(Space::Nothing, |acc, n| acc.or(n.space())),
            _ => Space::All,
        }
    }
}

/// A region that contains the envelope of every matching feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Space {
    /// Anywhere.
    All,
    /// Feature envelopes must intersect this box.
    Box(Rect<f64>),
    /// No feature can match.
    Nothing,
}

impl Space {
    fn and(self, other: Space) -> Space {
        match (self, other) {
            (Space::Nothing, _) | (_, Space::Nothing) => Space::Nothing,
            (Space::All, s) | (s, Space::All) => s,
            (Space::Box(a), Space::Box(b)) => {
                // An envelope that intersects both boxes need not intersect their overlap
                // (a long road crossing two separate boxes), so keep the smaller box rather
                // than the overlap; for the same reason disjoint boxes rule nothing out.
                if area(a) <= area(b) {
                    Space::Box(a)
                } else {
                    Space::Box(b)
                }
            }
        }
    }

    fn or(self, other: Space) -> Space {
        match (self, other) {
            (Space::All, _) | (_, Space::All) => Space::All,
            (Space::Nothing, s) | (s, Space::Nothing) => s,
            (Space::Box(a), Space::Box(b)) => Space::Box(Rect::new(
                geo::Coord {
                    x: a.min().x.min(b.min().x),
                    y: a.min().y.min(b.min().y),
                },
                geo::Coord {
                    x: a.max().x.max(b.max().x),
                    y: a.max().y.max(b.max().y),
                },
            )),
        }
    }
}

fn area(r: Rect<f64>) -> f64 {
    r.width() * r.height()
}

/// A compiled `LIKE` pattern: `%` any run, `_` any one character, `\` escapes the next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LikePattern {
    tokens: Vec<LikeToken>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum LikeToken {
    Char(char),
    One,
    Many,
}

impl LikePattern {
    /// Compiles a pattern; fails on a trailing, unescaped `\`.
    pub(crate) fn new(pattern: &str) -> Result<LikePattern, String> {
        let mut tokens = Vec::with_capacity(pattern.len());
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '%' => LikeToken::Many,
                '_' => LikeToken::One,
                '\\' => match chars.next() {
                    Some(e) => LikeToken::Char(e),
                    None => return Err("the pattern ends with an unescaped \\".into()),
                },
                c => LikeToken::Char(c),
            });
        }
        Ok(LikePattern { tokens })
    }

    /// Whether `s` matches. O(len(s) x len(pattern)) in the worst case, linear in practice.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let text: Vec<char> = s.chars().collect();
        let p = &self.tokens;
        let (mut ti, mut pi) = (0usize, 0usize);
        // The last `%` seen and the text position it was tried at.
        let mut star: Option<(usize, usize)> = None;
        while ti < text.len() {
            match p.get(pi) {
                Some(LikeToken::Many) => {
                    star = Some((pi, ti));
                    pi += 1;
                }
                Some(LikeToken::One) => {
                    ti += 1;
                    pi += 1;
                }
                Some(LikeToken::Char(c)) if *c == text[ti] => {
                    ti += 1;
                    pi += 1;
                }
                _ => match star {
                    // Let the last `%` swallow one more character and retry.
                    Some((sp, st)) => {
                        pi = sp + 1;
                        ti = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        p[pi.min(p.len())..].iter().all(|t| *t == LikeToken::Many)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_and_escapes() {
        let p = |s: &str| LikePattern::new(s).unwrap();
        assert!(p("Crem%").matches("Cremona"));
        assert!(p("Crem%").matches("Crem"));
        assert!(!p("Crem%").matches("Cre"));
        assert!(p("%ona").matches("Cremona"));
        assert!(!p("%ona").matches("Cremonas"));
        assert!(p("Cr_ma").matches("Crema"));
        assert!(!p("Cr_ma").matches("Crma"));
        assert!(p("%").matches(""));
        assert!(!p("_").matches(""));
        assert!(p("a%b%c").matches("aXXbYYc"));
        assert!(!p("a%b%c").matches("aXXcYYb"));
        assert!(p("100\\%").matches("100%"));
        assert!(!p("100\\%").matches("1000"));
        assert!(p("a\\_b").matches("a_b"));
        assert!(!p("a\\_b").matches("axb"));
        assert!(p("a\\\\b").matches("a\\b"));
        assert!(p("%%x").matches("x"));
        assert!(p("è_").matches("èé"));
        assert!(LikePattern::new("abc\\").is_err());
    }

    #[test]
    fn three_valued_logic() {
        let f = Feature {
            id: crate::feature::FeatureId::Int(1),
            geometry: geo::Geometry::Point(geo::Point::new(0.0, 0.0)),
            values: vec![Value::Null, Value::Int(3)].into(),
            invalid: None,
        };
        let null_eq = || {
            Node::Cmp(
                CmpOp::Eq,
                Operand::Field {
                    index: 0,
                    kind: Kind::Number,
                    casei: false,
                },
                Operand::Lit(Scalar::Num(1.0)),
            )
        };
        let three = || {
            Node::Cmp(
                CmpOp::Eq,
                Operand::Field {
                    index: 1,
                    kind: Kind::Number,
                    casei: false,
                },
                Operand::Lit(Scalar::Num(3.0)),
            )
        };
        assert_eq!(null_eq().eval(&f), None);
        assert_eq!(Node::Not(Box::new(null_eq())).eval(&f), None);
        assert_eq!(Node::Or(vec![null_eq(), three()]).eval(&f), Some(true));
        assert_eq!(Node::And(vec![null_eq(), three()]).eval(&f), None);
        assert_eq!(
            Node::And(vec![null_eq(), Node::Not(Box::new(three()))]).eval(&f),
            Some(false)
        );
    }
}
