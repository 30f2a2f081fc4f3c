//! Typing the two sides of a CQL2 comparison: a property of the layer's schema or a literal,
//! paired so that their kinds agree, literals turned into the kind of the property they meet
//! (dates and timestamps through [`crate::time`]).

use super::eval::{Kind, Operand, Scalar};
use super::FilterError;
use crate::feature::FieldType;

/// One side of a comparison, before it is paired with the other.
#[derive(Debug, Clone)]
pub(super) enum Side {
    Prop {
        index: usize,
        name: String,
        ty: FieldType,
        casei: bool,
    },
    Lit {
        value: LitValue,
        text: String,
    },
}

#[derive(Debug, Clone)]
pub(super) enum LitValue {
    Num(f64),
    Str(String),
    Bool(bool),
    Date(String),
    Timestamp(String),
    Null,
}

impl LitValue {
    pub(super) fn kind_name(&self) -> &'static str {
        match self {
            LitValue::Num(_) => "a number",
            LitValue::Str(_) => "a string",
            LitValue::Bool(_) => "a boolean",
            LitValue::Date(_) => "a date",
            LitValue::Timestamp(_) => "a timestamp",
            LitValue::Null => "null",
        }
    }
}

pub(super) fn kind_of(ty: FieldType) -> Kind {
    match ty {
        FieldType::Int | FieldType::Real => Kind::Number,
        FieldType::String => Kind::String,
        FieldType::Bool => Kind::Bool,
        FieldType::Date => Kind::Date,
        FieldType::DateTime => Kind::Timestamp,
    }
}

pub(super) fn unordered(op: &str, kind: Option<Kind>) -> FilterError {
    FilterError::Invalid {
        operator: op.to_uppercase(),
        reason: format!(
            "{} values have no order; use = or <>",
            kind.map_or("these", |k| k.name())
        ),
    }
}

/// Pairs two sides of a comparison: checks that their kinds agree and turns literals into the
/// kind of the property they meet. Returns the operands and the kind compared (`None` when a
/// side is NULL).
pub(super) fn unify(a: Side, b: Side) -> Result<(Operand, Operand, Option<Kind>), FilterError> {
    match (a, b) {
        (
            Side::Prop {
                index: ia,
                name: na,
                ty: ta,
                casei: ca,
            },
            Side::Prop {
                index: ib,
                name: nb,
                ty: tb,
                casei: cb,
            },
        ) => {
            let (ka, kb) = (kind_of(ta), kind_of(tb));
            if ka != kb {
                return Err(FilterError::PropertyTypes {
                    left: na,
                    left_ty: ta.name(),
                    right: nb,
                    right_ty: tb.name(),
                });
            }
            Ok((
                Operand::Field {
                    index: ia,
                    kind: ka,
                    casei: ca,
                },
                Operand::Field {
                    index: ib,
                    kind: kb,
                    casei: cb,
                },
                Some(ka),
            ))
        }
        (
            Side::Prop {
                index,
                name,
                ty,
                casei,
            },
            Side::Lit { value, text, .. },
        ) => {
            let kind = kind_of(ty);
            let lit = literal_as(kind, &value, &text).map_err(|reason| match reason {
                Some(reason) => FilterError::BadLiteral {
                    literal: text.clone(),
                    reason,
                },
                None => FilterError::TypeMismatch {
                    property: name.clone(),
                    ty: ty.name(),
                    literal: text.clone(),
                    literal_type: value.kind_name(),
                },
            })?;
            Ok((
                Operand::Field { index, kind, casei },
                lit,
                (!matches!(value, LitValue::Null)).then_some(kind),
            ))
        }
        (lit @ Side::Lit { .. }, prop @ Side::Prop { .. }) => {
            let (p, l, k) = unify(prop, lit)?;
            Ok((l, p, k))
        }
        (
            Side::Lit {
                value: va,
                text: ta,
                ..
            },
            Side::Lit {
                value: vb,
                text: tb,
                ..
            },
        ) => {
            // Two literals: the kind of the more specific one (a date over a plain string).
            let kind = |v: &LitValue| match v {
                LitValue::Num(_) => Some(Kind::Number),
                LitValue::Str(_) => Some(Kind::String),
                LitValue::Bool(_) => Some(Kind::Bool),
                LitValue::Date(_) => Some(Kind::Date),
                LitValue::Timestamp(_) => Some(Kind::Timestamp),
                LitValue::Null => None,
            };
            let k = match (kind(&va), kind(&vb)) {
                (Some(Kind::String), Some(k)) | (Some(k), Some(Kind::String)) => Some(k),
                (Some(k), _) | (None, Some(k)) => Some(k),
                (None, None) => None,
            };
            let Some(k) = k else {
                return Ok((Operand::Null, Operand::Null, None));
            };
            let conv = |v: &LitValue, t: &str| {
                literal_as(k, v, t).map_err(|reason| FilterError::BadLiteral {
                    literal: t.to_string(),
                    reason: reason.unwrap_or_else(|| {
                        format!("{t} is {}, the other side is {}", v.kind_name(), k.name())
                    }),
                })
            };
            Ok((conv(&va, &ta)?, conv(&vb, &tb)?, Some(k)))
        }
    }
}

/// A literal as a value of `kind`. `Err(None)`: the kinds do not match; `Err(Some(reason))`:
/// the literal is of a usable kind but malformed (a bad date).
fn literal_as(kind: Kind, v: &LitValue, text: &str) -> Result<Operand, Option<String>> {
    let date = |s: &str| {
        crate::time::parse_date(s)
            .map(|d| Operand::Lit(Scalar::Date(d)))
            .ok_or_else(|| Some(format!("{text} is not a date (YYYY-MM-DD)")))
    };
    let timestamp = |s: &str| {
        crate::time::parse_timestamp(s, crate::time::Zone::Required)
            .map(|t| Operand::Lit(Scalar::Time(t)))
            .ok_or_else(|| {
                Some(format!(
                    "{text} is not an RFC 3339 timestamp (YYYY-MM-DDThh:mm:ssZ)"
                ))
            })
    };
    match (kind, v) {
        (_, LitValue::Null) => Ok(Operand::Null),
        (Kind::Number, LitValue::Num(n)) => Ok(Operand::Lit(Scalar::Num(*n))),
        (Kind::String, LitValue::Str(s)) => Ok(Operand::Lit(Scalar::Str(s.clone()))),
        (Kind::Bool, LitValue::Bool(b)) => Ok(Operand::Lit(Scalar::Bool(*b))),
        (Kind::Date, LitValue::Date(s) | LitValue::Str(s)) => date(s),
        (Kind::Timestamp, LitValue::Timestamp(s) | LitValue::Str(s)) => timestamp(s),
        _ => Err(None),
    }
}
