//! From a parsed CQL2 expression (`cql2::Expr`) to a typed [`Node`] tree for one layer.

use cql2::Expr;

use super::eval::{CmpOp, Kind, LikePattern, Node, Operand, Scalar};
use super::spatial::{LiteralCrs, SpatialOp, SpatialTest};
use super::typing::{kind_of, unify, unordered, LitValue, Side};
use super::{FilterError, FilterLang, GEOMETRY_PROPERTY};
use crate::crs;
use crate::feature::FieldType;
use crate::store::Layer;

/// Nesting deeper than this is refused: parentheses before parsing cql2-text, whose parser
/// recurses, and the parsed expression's levels in either encoding.
pub const MAX_DEPTH: usize = 64;

/// The most steps (pest rule calls) the cql2-text parser may take for one filter. Its grammar
/// backtracks: `(` opens both a parenthesised expression and an array, and an operand of
/// `BETWEEN` is parsed before being given up, so each level of nesting can parse what it holds
/// again, and some filters of 80 bytes took minutes (found by fuzzing). With the bound a parse
/// takes at most some 50 ms (release build). Legitimate filters take 9 to 32 steps a byte, so
/// this admits a polygon of about 5,000 vertices or an `IN` list of 5,000 numbers; a filter
/// needing more is a syntax error. The limit is pest's, process-wide (cql2 is the only pest
/// parser here), and the same for every filter, so concurrent parses cannot change each
/// other's.
const MAX_PARSE_STEPS: usize = 1_000_000;

/// The free stack the general path ([`general`]) asks for. The deepest filters
/// [`check_text_shape`] lets through (chains of [`MAX_OPERATORS`] operators inside
/// [`MAX_DEPTH`] parentheses, `tests/fuzz_regressions.rs`) were measured to need at most 640 KB
/// in a release build and 3 MiB in a debug build; this is more than twice that.
const GENERAL_STACK_FREE: usize = if cfg!(debug_assertions) {
    8 << 20
} else {
    3 << 19
};

/// The size of the stack the general path runs on when the calling thread has less than
/// [`GENERAL_STACK_FREE`] left.
const GENERAL_STACK_SIZE: usize = 8 << 20;

/// The general path: parse with the cql2 crate, check the depth, compile. The bounds on the
/// filter's shape bound how deep the parser recurses; this makes sure the stack is there for
/// it, whatever thread the caller runs on. A tokio worker (2 MiB) has the 1.5 MiB a release
/// build asks for, and runs it in place; a thread with less left runs it on a new stack
/// (`stacker`: mapped for the call, which costs about 14 µs, as much as the parse itself).
pub(crate) fn general(text: &str, lang: FilterLang, ctx: &Context) -> Result<Node, FilterError> {
    stacker::maybe_grow(GENERAL_STACK_FREE, GENERAL_STACK_SIZE, || {
        ctx.predicate(&parse(text, lang)?, 0)
    })
}

/// The most operators a cql2-text filter may hold (comparisons, arithmetic, `AND`, `OR`, `NOT`,
/// `LIKE`, `IN`, `BETWEEN`, `IS`; the sign of a number and whatever is inside a geometry literal
/// are not counted). The cql2 crate builds its expression recursively: a chain of prefix
/// operators (`- - - p`, `NOT NOT p`), of right-associative comparisons (`a = b = c`) or of
/// anything before it is flattened (`a OR b OR c`) is a level of recursion per operator, and so
/// is every walk of the tree it builds (printing, dropping). Without a bound, a few kilobytes of
/// `-` overflowed the stack of the thread parsing it (found by fuzzing), taking the whole process
/// down. With it, the deepest filter there can be (this many operators inside [`MAX_DEPTH`]
/// parentheses) needs a known stack ([`GENERAL_STACK_FREE`]). An `OR` of 64 comparisons fits;
/// a longer list of values is an `IN`, whose values are not operators. Filters written by
/// people or by QGIS hold a few dozen.
pub const MAX_OPERATORS: usize = 128;

/// Parses a filter in either encoding.
///
/// The shape of a cql2-text filter is checked first ([`check_text_shape`]), and the depth of
/// the parsed expression in either encoding next ([`check_depth`]), so that nothing that walks
/// the expression recursively (compiling it, printing an operand for a message) can run out of
/// stack. cql2-json's nesting is bounded before that by the JSON reader's own limit (128 levels).
pub(crate) fn parse(text: &str, lang: FilterLang) -> Result<Expr, FilterError> {
    let expr = match lang {
        FilterLang::Cql2Text => {
            check_text_shape(text)?;
            pest::set_call_limit(std::num::NonZeroUsize::new(MAX_PARSE_STEPS));
            cql2::parse_text(text).map_err(|e| FilterError::Syntax {
                lang,
                message: syntax_message(&e.to_string()),
            })?
        }
        FilterLang::Cql2Json => cql2::parse_json(text).map_err(|e| FilterError::Syntax {
            lang,
            message: e.to_string(),
        })?,
    };
    check_depth(&expr)?;
    Ok(expr)
}

/// Refuses a cql2-text filter nested more than [`MAX_DEPTH`] parentheses deep or holding more
/// than [`MAX_OPERATORS`] operators, before the parser (which recurses on both) sees it.
///
/// One pass over the bytes with a small lexer: quoted strings and identifiers are skipped,
/// a word is an operator when it is one of CQL2's operator keywords, a `-` or `+` is the sign
/// of a number (not counted) when it cannot follow an operand and a digit follows it, and the
/// parentheses of a geometry literal (`POINT (...)`, `POLYGON ((...))`, ...) count towards the
/// depth, but nothing inside them is an operator. The lexer only counts: the parser decides
/// what the text means, so a count can be too high for odd text, never too low.
pub(crate) fn check_text_shape(text: &str) -> Result<(), FilterError> {
    const OPERATOR_WORDS: [&str; 8] = ["and", "or", "not", "like", "in", "between", "is", "div"];
    const GEOMETRY_WORDS: [&str; 8] = [
        "point",
        "linestring",
        "polygon",
        "multipoint",
        "multilinestring",
        "multipolygon",
        "geometrycollection",
        "envelope",
    ];
    let b = text.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    let mut operators = 0usize;
    // The depth at which the geometry literal being read closes, and whether the last word was
    // a geometry type (so that the next `(` opens a literal).
    let mut geometry_closes_at: Option<usize> = None;
    let mut geometry_next = false;
    // Whether the last token can end an operand, so that a `-` after it subtracts.
    let mut after_operand = false;
    while i < b.len() {
        let c = b[i];
        let in_geometry = geometry_closes_at.is_some();
        match c {
            b'\'' | b'"' => {
                // To the closing quote; a doubled quote is one quote character inside.
                i += 1;
                while i < b.len() {
                    if b[i] == c {
                        if b.get(i + 1) == Some(&c) {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    i += 1;
                }
                after_operand = true;
                geometry_next = false;
            }
            b'(' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(FilterError::TooDeep { max: MAX_DEPTH });
                }
                if geometry_next && !in_geometry {
                    geometry_closes_at = Some(depth);
                }
                after_operand = false;
                geometry_next = false;
            }
            b')' => {
                if geometry_closes_at == Some(depth) {
                    geometry_closes_at = None;
                }
                depth = depth.saturating_sub(1);
                after_operand = true;
                geometry_next = false;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let start = i;
                while i + 1 < b.len()
                    && (b[i + 1].is_ascii_alphanumeric() || matches!(b[i + 1], b'_' | b'.' | b':'))
                {
                    i += 1;
                }
                let word = &text[start..=i];
                let is = |w: &&str| word.eq_ignore_ascii_case(w);
                if !in_geometry && OPERATOR_WORDS.iter().any(is) {
                    operators += 1;
                    after_operand = false;
                    geometry_next = false;
                } else {
                    after_operand = true;
                    geometry_next = GEOMETRY_WORDS.iter().any(is);
                }
            }
            b'0'..=b'9' | b'.' => {
                while i + 1 < b.len() && (b[i + 1].is_ascii_digit() || b[i + 1] == b'.') {
                    i += 1;
                }
                // An exponent's sign belongs to the number.
                if i + 2 < b.len()
                    && matches!(b[i + 1], b'e' | b'E')
                    && (b[i + 2].is_ascii_digit()
                        || (matches!(b[i + 2], b'-' | b'+')
                            && b.get(i + 3).is_some_and(u8::is_ascii_digit)))
                {
                    i += 2;
                    while i + 1 < b.len() && b[i + 1].is_ascii_digit() {
                        i += 1;
                    }
                }
                after_operand = true;
                geometry_next = false;
            }
            b'-' | b'+' | b'*' | b'/' | b'%' | b'^' | b'=' | b'<' | b'>' => {
                let sign = matches!(c, b'-' | b'+')
                    && !after_operand
                    && b.get(i + 1)
                        .is_some_and(|n| n.is_ascii_digit() || *n == b'.');
                if !in_geometry && !sign {
                    operators += 1;
                }
                after_operand = false;
                geometry_next = false;
            }
            c if c.is_ascii_whitespace() => {}
            // A byte of a non-ASCII character: part of an identifier (cql2-text admits Unicode
            // letters in names), so a `-` after it subtracts.
            0x80.. => {
                after_operand = true;
                geometry_next = false;
            }
            _ => {
                after_operand = false;
                geometry_next = false;
            }
        }
        if operators > MAX_OPERATORS {
            return Err(FilterError::TooManyOperators { max: MAX_OPERATORS });
        }
        i += 1;
    }
    Ok(())
}

/// Refuses an expression more than [`MAX_DEPTH`] levels deep, measured without recursion.
pub(crate) fn check_depth(expr: &Expr) -> Result<(), FilterError> {
    let mut stack: Vec<(&Expr, usize)> = vec![(expr, 1)];
    while let Some((e, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(FilterError::TooDeep { max: MAX_DEPTH });
        }
        let children: &[Box<Expr>] = match e {
            Expr::Operation { args, .. } => args,
            Expr::Array(items) => items,
            Expr::Interval { interval } => interval,
            Expr::BBox { bbox } => bbox,
            Expr::Date { date } => std::slice::from_ref(date),
            Expr::Timestamp { timestamp } => std::slice::from_ref(timestamp),
            _ => &[],
        };
        stack.extend(children.iter().map(|c| (&**c, depth + 1)));
    }
    Ok(())
}

/// pest reports errors over several lines (` --> 1:7`, the line with a caret, `= expected ...`):
/// keep the position and the expectation on one line.
fn syntax_message(full: &str) -> String {
    let position = full
        .lines()
        .find_map(|l| l.trim().strip_prefix("-->"))
        .and_then(|p| p.trim().split_once(':'));
    let expected = full
        .lines()
        .find_map(|l| l.trim().strip_prefix("= "))
        .unwrap_or(full.trim());
    // pest's words for the bound on its work (MAX_PARSE_STEPS).
    let expected = match expected {
        "call limit reached" => "the filter is too complex to parse (fewer nested parentheses?)",
        other => other,
    };
    match position {
        Some((line, column)) => format!("at line {line}, column {column}: {expected}"),
        None => expected.to_string(),
    }
}

/// The text of an expression, for messages.
fn show(e: &Expr) -> String {
    match e {
        Expr::Literal(s) => format!("'{}'", s.replace('\'', "''")),
        other => other.to_text().unwrap_or_else(|_| format!("{other:?}")),
    }
}

/// Compilation state: the layer's schema and the CRSs of spatial literals.
pub(crate) struct Context<'a> {
    layer: &'a Layer,
    filter_crs: std::borrow::Cow<'a, str>,
    working_crs: std::borrow::Cow<'a, str>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(layer: &'a Layer, filter_crs: &'a str, working_crs: &'a str) -> Context<'a> {
        Context {
            layer,
            filter_crs: crs::normalized(filter_crs),
            working_crs: crs::normalized(working_crs),
        }
    }

    fn unknown_property(&self, name: &str) -> FilterError {
        FilterError::UnknownProperty {
            property: name.to_string(),
            layer: self.layer.id().to_string(),
            queryables: super::queryables(self.layer)
                .iter()
                .map(|q| q.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// A boolean expression.
    pub(crate) fn predicate(&self, e: &Expr, depth: usize) -> Result<Node, FilterError> {
        if depth > MAX_DEPTH {
            return Err(FilterError::TooDeep { max: MAX_DEPTH });
        }
        let d = depth + 1;
        match e {
            Expr::Bool(b) => Ok(Node::Const(Some(*b))),
            Expr::Property { property } => {
                // A boolean property on its own is the predicate "property = TRUE".
                let side = self.scalar(e, d)?;
                match &side {
                    Side::Prop {
                        ty: FieldType::Bool,
                        index,
                        ..
                    } => Ok(Node::Cmp(
                        CmpOp::Eq,
                        Operand::Field {
                            index: *index,
                            kind: Kind::Bool,
                            casei: false,
                        },
                        Operand::Lit(Scalar::Bool(true)),
                    )),
                    Side::Prop { ty, .. } => Err(FilterError::Invalid {
                        operator: "a property as a condition".into(),
                        reason: format!("property {property:?} is {}, not a boolean", ty.name()),
                    }),
                    Side::Lit { .. } => unreachable_side(e),
                }
            }
            Expr::Operation { op, args } => self.operation(op, args, d),
            other => Err(FilterError::Invalid {
                operator: show(other),
                reason: "this is a value, not a condition".into(),
            }),
        }
    }

    fn operation(&self, op: &str, args: &[Box<Expr>], d: usize) -> Result<Node, FilterError> {
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(FilterError::Invalid {
                    operator: op.to_string(),
                    reason: format!("it takes {n} arguments, got {}", args.len()),
                })
            }
        };
        match op {
            "and" | "or" => {
                // cql2-text always gives two or more; in cql2-json the schema requires them.
                if args.len() < 2 {
                    return Err(FilterError::Invalid {
                        operator: op.into(),
                        reason: format!("it needs at least two arguments, not {}", args.len()),
                    });
                }
                let nodes = args
                    .iter()
                    .map(|a| self.predicate(a, d))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if op == "and" {
                    Node::And(nodes)
                } else {
                    Node::Or(nodes)
                })
            }
            "not" => {
                arity(1)?;
                Ok(Node::Not(Box::new(self.predicate(&args[0], d)?)))
            }
            "=" | "<>" | "<" | "<=" | ">" | ">=" => {
                arity(2)?;
                let cmp = match op {
                    "=" => CmpOp::Eq,
                    "<>" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                let ordered = !matches!(cmp, CmpOp::Eq | CmpOp::Ne);
                let a = self.scalar(&args[0], d)?;
                let b = self.scalar(&args[1], d)?;
                let (a, b, kind) = unify(a, b)?;
                if ordered && kind.is_some_and(|k| !k.ordered()) {
                    return Err(unordered(op, kind));
                }
                Ok(Node::Cmp(cmp, a, b))
            }
            "between" => {
                arity(3)?;
                let v = self.scalar(&args[0], d)?;
                let lo = self.scalar(&args[1], d)?;
                let hi = self.scalar(&args[2], d)?;
                let (_, lo, k1) = unify(v.clone(), lo)?;
                let (v, hi, k2) = unify(v, hi)?;
                for k in [k1, k2] {
                    if k.is_some_and(|k| !k.ordered()) {
                        return Err(unordered("BETWEEN", k));
                    }
                }
                Ok(Node::Between(v, lo, hi))
            }
            "in" => {
                arity(2)?;
                let Expr::Array(items) = args[1].as_ref() else {
                    return Err(FilterError::Invalid {
                        operator: "IN".into(),
                        reason: format!("expected a list, got {}", show(&args[1])),
                    });
                };
                let v = self.scalar(&args[0], d)?;
                let mut value = None;
                let mut list = Vec::with_capacity(items.len());
                for item in items {
                    let item = self.scalar(item, d)?;
                    let (v, item, _) = unify(v.clone(), item)?;
                    value = Some(v);
                    list.push(item);
                }
                let value = match value {
                    Some(v) => v,
                    None => unify(v.clone(), v)?.0,
                };
                Ok(Node::In(value, list))
            }
            "like" => {
                arity(2)?;
                let v = self.scalar(&args[0], d)?;
                let pattern = self.scalar(&args[1], d)?;
                let pattern_text = match &pattern {
                    Side::Lit {
                        value: LitValue::Str(s),
                        ..
                    } => s.clone(),
                    Side::Lit { text, value, .. } => {
                        return Err(FilterError::Invalid {
                            operator: "LIKE".into(),
                            reason: format!(
                                "the pattern must be a string, {text} is {}",
                                value.kind_name()
                            ),
                        })
                    }
                    Side::Prop { name, .. } => {
                        return Err(FilterError::Unsupported {
                            what: "LIKE pattern",
                            name: name.clone(),
                            reason: "the pattern must be a string literal, not a property".into(),
                        })
                    }
                };
                let like = LikePattern::new(&pattern_text).map_err(|reason| {
                    FilterError::BadLiteral {
                        literal: show(&args[1]),
                        reason,
                    }
                })?;
                let (value, _, _) = unify(
                    v,
                    Side::Lit {
                        value: LitValue::Str(pattern_text),
                        text: show(&args[1]),
                    },
                )?;
                Ok(Node::Like(value, like))
            }
            "isNull" => {
                arity(1)?;
                if matches!(args[0].as_ref(), Expr::Property { property } if property == GEOMETRY_PROPERTY && self.layer.field_index(GEOMETRY_PROPERTY).is_none())
                {
                    // Every feature has a geometry: never NULL.
                    return Ok(Node::Const(Some(false)));
                }
                Ok(Node::IsNull(match self.scalar(&args[0], d)? {
                    Side::Prop { index, ty, .. } => Operand::Field {
                        index,
                        kind: kind_of(ty),
                        casei: false,
                    },
                    Side::Lit {
                        value: LitValue::Null,
                        ..
                    } => Operand::Null,
                    Side::Lit { .. } => Operand::Lit(Scalar::Bool(true)),
                }))
            }
            op if SpatialOp::from_name(op).is_some() => {
                arity(2)?;
                self.spatial(op, &args[0], &args[1])
            }
            op if op.starts_with("t_") => Err(FilterError::Unsupported {
                what: "operator",
                name: op.to_string(),
                reason: "temporal operators (T_*) are not supported; compare dates with =, <, >, BETWEEN".into(),
            }),
            op if op.starts_with("a_") => Err(FilterError::Unsupported {
                what: "operator",
                name: op.to_string(),
                reason: "array operators are not supported".into(),
            }),
            "+" | "-" | "*" | "/" | "%" | "^" | "div" => Err(FilterError::Unsupported {
                what: "operator",
                name: op.to_string(),
                reason: "arithmetic is not supported".into(),
            }),
            "casei" | "accenti" => Err(FilterError::Invalid {
                operator: op.to_uppercase(),
                reason: "it gives a value, not a condition".into(),
            }),
            other => Err(FilterError::Unsupported {
                what: "function",
                name: other.to_string(),
                reason: "the supported functions are CASEI, DATE, TIMESTAMP and BBOX".into(),
            }),
        }
    }

    /// A value: a property, a literal, `CASEI(...)`, `DATE(...)`, `TIMESTAMP(...)`.
    fn scalar(&self, e: &Expr, d: usize) -> Result<Side, FilterError> {
        if d > MAX_DEPTH {
            return Err(FilterError::TooDeep { max: MAX_DEPTH });
        }
        let lit = |value: LitValue| Side::Lit {
            value,
            text: show(e),
        };
        match e {
            Expr::Property { property } => match self.layer.field_index(property) {
                Some(index) => Ok(Side::Prop {
                    index,
                    name: property.clone(),
                    ty: self.layer.fields[index].ty,
                    casei: false,
                }),
                None if property == GEOMETRY_PROPERTY => Err(FilterError::Invalid {
                    operator: "geometry".into(),
                    reason: "the geometry property can only be used in spatial operators (S_*)"
                        .into(),
                }),
                None => Err(self.unknown_property(property)),
            },
            Expr::Float(n) => Ok(lit(LitValue::Num(*n))),
            Expr::Literal(s) => Ok(lit(LitValue::Str(s.clone()))),
            Expr::Bool(b) => Ok(lit(LitValue::Bool(*b))),
            Expr::Null => Ok(lit(LitValue::Null)),
            Expr::Date { date } => match date.as_ref() {
                Expr::Literal(s) => Ok(lit(LitValue::Date(s.clone()))),
                other => Err(FilterError::BadLiteral {
                    literal: show(e),
                    reason: format!("DATE takes a string, got {}", show(other)),
                }),
            },
            Expr::Timestamp { timestamp } => match timestamp.as_ref() {
                Expr::Literal(s) => Ok(lit(LitValue::Timestamp(s.clone()))),
                other => Err(FilterError::BadLiteral {
                    literal: show(e),
                    reason: format!("TIMESTAMP takes a string, got {}", show(other)),
                }),
            },
            Expr::Operation { op, args } if op == "casei" => {
                if args.len() != 1 {
                    return Err(FilterError::Invalid {
                        operator: "CASEI".into(),
                        reason: format!("it takes 1 argument, got {}", args.len()),
                    });
                }
                match self.scalar(&args[0], d + 1)? {
                    Side::Prop {
                        index,
                        name,
                        ty: FieldType::String,
                        ..
                    } => Ok(Side::Prop {
                        index,
                        name,
                        ty: FieldType::String,
                        casei: true,
                    }),
                    Side::Lit {
                        value: LitValue::Str(s),
                        text,
                        ..
                    } => Ok(Side::Lit {
                        value: LitValue::Str(s.to_lowercase()),
                        text,
                    }),
                    Side::Prop { name, ty, .. } => Err(FilterError::Invalid {
                        operator: "CASEI".into(),
                        reason: format!(
                            "it applies to strings; property {name:?} is {}",
                            ty.name()
                        ),
                    }),
                    Side::Lit { text, value, .. } => Err(FilterError::Invalid {
                        operator: "CASEI".into(),
                        reason: format!("it applies to strings; {text} is {}", value.kind_name()),
                    }),
                }
            }
            Expr::Operation { op, .. } if op == "accenti" => Err(FilterError::Unsupported {
                what: "function",
                name: "ACCENTI".into(),
                reason: "accent-insensitive comparison is not supported".into(),
            }),
            Expr::Operation { op, .. } if SpatialOp::from_name(op).is_some() || is_logical(op) => {
                Err(FilterError::Invalid {
                    operator: show(e),
                    reason: "a condition cannot be compared as a value".into(),
                })
            }
            Expr::Operation { op, args } => self.operation(op, args, d).and_then(|_| {
                Err(FilterError::Invalid {
                    operator: show(e),
                    reason: "a condition cannot be compared as a value".into(),
                })
            }),
            Expr::Geometry(_) | Expr::BBox { .. } => Err(FilterError::Invalid {
                operator: show(e),
                reason: "geometries can only be used in spatial operators (S_*)".into(),
            }),
            Expr::Interval { .. } => Err(FilterError::Unsupported {
                what: "function",
                name: "INTERVAL".into(),
                reason: "intervals belong to temporal operators, which are not supported".into(),
            }),
            Expr::Array(_) => Err(FilterError::Invalid {
                operator: show(e),
                reason: "a list can only be the right side of IN".into(),
            }),
        }
    }

    fn spatial(&self, op: &str, a: &Expr, b: &Expr) -> Result<Node, FilterError> {
        let name = op.to_uppercase();
        let op = SpatialOp::from_name(op).ok_or_else(|| FilterError::Unsupported {
            what: "operator",
            name: name.clone(),
            reason: "not a spatial operator".into(),
        })?;
        let a_prop = self.geometry_property(a, &name)?;
        let b_prop = self.geometry_property(b, &name)?;
        match (a_prop, b_prop) {
            (true, true) => Err(FilterError::Unsupported {
                what: "operator",
                name: format!("{name} between two properties"),
                reason: "one side must be a geometry literal or BBOX".into(),
            }),
            (true, false) => {
                let (g, r) = self.literal(b)?;
                Ok(Node::Spatial(Box::new(SpatialTest::new(op, g, r))))
            }
            (false, true) => {
                let (g, r) = self.literal(a)?;
                Ok(Node::Spatial(Box::new(SpatialTest::new(
                    op.converse(),
                    g,
                    r,
                ))))
            }
            (false, false) => {
                // Two literals: a constant.
                let (ga, _) = self.literal(a)?;
                let (gb, _) = self.literal(b)?;
                Ok(Node::Const(Some(op.holds(&ga, &gb))))
            }
        }
    }

    /// `S_INTERSECTS(geometry, POINT(x y))`, the point in the filter CRS's axis order: the
    /// node the general path builds for it (used by the fast path, [`super::fast`]).
    pub(crate) fn point_literal(&self, x: f64, y: f64) -> Result<Node, FilterError> {
        let crs = LiteralCrs {
            filter_crs: &self.filter_crs,
            working_crs: &self.working_crs,
        };
        let point = geo::Geometry::Point(geo::Point::new(x, y));
        let (g, r) = crs.geometry(point, &|| format!("POINT({x} {y})"))?;
        Ok(Node::Spatial(Box::new(SpatialTest::new(
            SpatialOp::Intersects,
            g,
            r,
        ))))
    }

    /// `S_INTERSECTS(geometry, BBOX(a, b, c, d))`, as [`Self::point_literal`].
    pub(crate) fn bbox_literal(&self, corners: [f64; 4]) -> Result<Node, FilterError> {
        let crs = LiteralCrs {
            filter_crs: &self.filter_crs,
            working_crs: &self.working_crs,
        };
        let [a, b, c, d] = corners;
        let (g, r) = crs.bbox(corners, &|| format!("BBOX({a}, {b}, {c}, {d})"))?;
        Ok(Node::Spatial(Box::new(SpatialTest::new(
            SpatialOp::Intersects,
            g,
            r,
        ))))
    }

    /// Whether `e` is the geometry property; an error for any other property.
    fn geometry_property(&self, e: &Expr, op: &str) -> Result<bool, FilterError> {
        match e {
            Expr::Property { property } if property == GEOMETRY_PROPERTY => Ok(true),
            Expr::Property { property } => match self.layer.field_index(property) {
                Some(i) => Err(FilterError::TypeMismatch {
                    property: property.clone(),
                    ty: self.layer.fields[i].ty.name(),
                    literal: format!("the spatial operator {op}"),
                    literal_type: "it needs the geometry property",
                }),
                None => Err(self.unknown_property(property)),
            },
            Expr::Geometry(_) | Expr::BBox { .. } => Ok(false),
            other => Err(FilterError::Invalid {
                operator: op.to_string(),
                reason: format!(
                    "its arguments are the geometry property and a geometry literal, got {}",
                    show(other)
                ),
            }),
        }
    }

    fn literal(&self, e: &Expr) -> Result<(geo::Geometry<f64>, geo::Rect<f64>), FilterError> {
        let text = || show(e);
        let crs = LiteralCrs {
            filter_crs: &self.filter_crs,
            working_crs: &self.working_crs,
        };
        match e {
            Expr::BBox { bbox } => {
                let mut v = Vec::with_capacity(bbox.len());
                for x in bbox {
                    match x.as_ref() {
                        Expr::Float(f) => v.push(*f),
                        other => {
                            return Err(FilterError::BadGeometry {
                                literal: text(),
                                reason: format!("{} is not a number", show(other)),
                            })
                        }
                    }
                }
                let corners = match v.as_slice() {
                    [a, b, c, d] => [*a, *b, *c, *d],
                    [a, b, _, d, e, _] => [*a, *b, *d, *e],
                    _ => {
                        return Err(FilterError::BadGeometry {
                            literal: text(),
                            reason: format!("a BBOX has 4 or 6 numbers, got {}", v.len()),
                        })
                    }
                };
                crs.bbox(corners, &text)
            }
            Expr::Geometry(_) => {
                let g = geo::Geometry::<f64>::try_from(e.clone()).map_err(|err| {
                    FilterError::BadGeometry {
                        literal: text(),
                        reason: err.to_string(),
                    }
                })?;
                crs.geometry(g, &text)
            }
            _ => unreachable_literal(e),
        }
    }
}

fn is_logical(op: &str) -> bool {
    matches!(
        op,
        "and"
            | "or"
            | "not"
            | "="
            | "<>"
            | "<"
            | "<="
            | ">"
            | ">="
            | "like"
            | "between"
            | "in"
            | "isNull"
    )
}

fn unreachable_side(e: &Expr) -> Result<Node, FilterError> {
    Err(FilterError::Invalid {
        operator: show(e),
        reason: "not a condition".into(),
    })
}

fn unreachable_literal(e: &Expr) -> Result<(geo::Geometry<f64>, geo::Rect<f64>), FilterError> {
    Err(FilterError::BadGeometry {
        literal: show(e),
        reason: "not a geometry".into(),
    })
}
