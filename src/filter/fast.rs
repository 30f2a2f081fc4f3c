//! The filters web maps and QGIS send most, compiled without the general CQL2 parser.
//!
//! "What is here?" from a map is `S_INTERSECTS(geometry,POINT(lon lat))`; a view is
//! `S_INTERSECTS(geometry,BBOX(...))`; a selection is `name = 'value'`, and a map combines
//! them with `AND`. Through the general path (the `cql2` crate's PEG parser, then its WKT
//! reader for the literal) such a filter costs about 130,000 instructions, some thirty times
//! the R-tree lookup it leads to. This module reads exactly this subset of cql2-text, in one
//! pass over the bytes with no allocation but the compiled tree:
//!
//! ```text
//! filter  := term (ws "AND" ws term)*                     (AND in any case)
//! term    := "S_INTERSECTS" "(" "geometry" "," literal ")"   (name in any case)
//!          | name "=" (string | number)
//! literal := "POINT" "(" number ws number ")"
//!          | "BBOX" "(" number "," number "," number "," number ")"
//! name    := ASCII letter, then ASCII letters, digits, '_', '.', ':'; not a CQL2 keyword
//! string  := "'" any characters but "'" "'"
//! number  := ["-" | "+"] digits ["." digits]
//! ```
//!
//! with optional ASCII white space around every token (`ws`: at least one). Cost: linear in
//! the text, and for a spatial literal one coordinate transformation, as on the general path.
//!
//! It builds the very [`Node`] the general path builds: the spatial literal goes through the
//! same [`Context::point_literal`] / [`Context::bbox_literal`], and a comparison becomes the
//! `cql2::Expr` the parser would have produced and is compiled by [`Context::predicate`]. A
//! test compares the two paths' compiled trees on generated and mutated filters. Anything
//! outside the subset, and any error (unknown property, wrong type, a literal outside the
//! working CRS's area), returns `None`: the general path then answers, with its messages.

use cql2::Expr;

use super::compile::Context;
use super::eval::Node;

/// The compiled filter, when `text` is in the subset above and compiles without error.
pub(crate) fn compile(text: &str, ctx: &Context) -> Option<Node> {
    let mut p = Cursor {
        s: text.as_bytes(),
        i: 0,
    };
    let mut terms = Vec::new();
    loop {
        p.ws();
        let node = term(&mut p, ctx)?;
        let spaced = p.ws();
        if p.done() {
            // One term alone is the filter itself, as the general path builds it.
            if terms.is_empty() {
                return Some(node);
            }
            terms.push(node);
            return Some(Node::And(terms));
        }
        terms.push(node);
        let name = p.name()?;
        if !(spaced && name.eq_ignore_ascii_case(b"and") && p.ws()) {
            return None;
        }
    }
}

fn term(p: &mut Cursor, ctx: &Context) -> Option<Node> {
    let name = p.name()?;
    p.ws();
    if name.eq_ignore_ascii_case(b"s_intersects") {
        p.byte(b'(')?;
        p.ws();
        if p.name()? != super::GEOMETRY_PROPERTY.as_bytes() {
            return None;
        }
        p.ws();
        p.byte(b',')?;
        p.ws();
        let kind = p.name()?;
        p.ws();
        p.byte(b'(')?;
        p.ws();
        let node = if kind.eq_ignore_ascii_case(b"point") {
            let x = p.number()?;
            if !p.ws() {
                return None;
            }
            let y = p.number()?;
            p.ws();
            p.byte(b')')?;
            ctx.point_literal(x, y).ok()?
        } else if kind.eq_ignore_ascii_case(b"bbox") {
            let mut v = [0.0; 4];
            for (k, slot) in v.iter_mut().enumerate() {
                if k > 0 {
                    p.ws();
                    p.byte(b',')?;
                    p.ws();
                }
                *slot = p.number()?;
            }
            p.ws();
            p.byte(b')')?;
            ctx.bbox_literal(v).ok()?
        } else {
            return None;
        };
        p.ws();
        p.byte(b')')?;
        return Some(node);
    }
    if is_keyword(name) {
        return None;
    }
    p.byte(b'=')?;
    p.ws();
    let value = if p.peek() == Some(b'\'') {
        Expr::Literal(p.string()?.to_string())
    } else {
        Expr::Float(p.number()?)
    };
    let comparison = Expr::Operation {
        op: "=".into(),
        args: vec![
            Box::new(Expr::Property {
                property: std::str::from_utf8(name).ok()?.to_string(),
            }),
            Box::new(value),
        ],
    };
    ctx.predicate(&comparison, 1).ok()
}

/// Words the CQL2 grammar gives a meaning; a name spelled like one takes the general path.
fn is_keyword(name: &[u8]) -> bool {
    const KEYWORDS: &[&str] = &[
        "and",
        "or",
        "not",
        "like",
        "between",
        "in",
        "is",
        "null",
        "true",
        "false",
        "div",
        "casei",
        "accenti",
        "date",
        "timestamp",
        "interval",
        "bbox",
        "point",
        "linestring",
        "polygon",
        "multipoint",
        "multilinestring",
        "multipolygon",
        "geometrycollection",
    ];
    KEYWORDS
        .iter()
        .any(|k| name.eq_ignore_ascii_case(k.as_bytes()))
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn done(&self) -> bool {
        self.i == self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skips ASCII white space; whether there was any.
    fn ws(&mut self) -> bool {
        let start = self.i;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
        self.i > start
    }

    fn byte(&mut self, b: u8) -> Option<()> {
        (self.peek() == Some(b)).then(|| self.i += 1)
    }

    /// A name (ASCII bytes): an ASCII letter, then letters, digits, `_`, `.`, `:`. A name running on into
    /// a non-ASCII character (which the grammar may take as part of it) is not in the subset.
    fn name(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        if !self.peek()?.is_ascii_alphabetic() {
            return None;
        }
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':'))
        {
            self.i += 1;
        }
        if self.peek().is_some_and(|c| !c.is_ascii()) {
            return None;
        }
        Some(&self.s[start..self.i])
    }

    /// A number: optional sign, digits, optionally a point and more digits. It must end
    /// where a token would: not in a letter, digit, `_`, `.` or `:` (so `1e5`, `1.2.3` and
    /// `5x` take the general path).
    fn number(&mut self) -> Option<f64> {
        let start = self.i;
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.i += 1;
        }
        let digits = |c: &mut Cursor| {
            let from = c.i;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.i += 1;
            }
            c.i > from
        };
        if !digits(self) {
            return None;
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !digits(self) {
                return None;
            }
        }
        if self.peek().is_some_and(|c| {
            !c.is_ascii() || c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':')
        }) {
            return None;
        }
        decimal(&self.s[start..self.i])
    }

    /// A quoted string without quotes inside (`''` takes the general path).
    fn string(&mut self) -> Option<&'a str> {
        self.byte(b'\'')?;
        let start = self.i;
        let len = self.s[start..].iter().position(|&c| c == b'\'')?;
        self.i = start + len + 1;
        if self.peek() == Some(b'\'') {
            return None;
        }
        std::str::from_utf8(&self.s[start..start + len]).ok()
    }
}

/// The value of `text`, a number as [`Cursor::number`] reads it, exactly as
/// `str::parse::<f64>` gives it (`None` where `parse` fails).
///
/// A number of at most 15 digits with at most 22 after the point, as coordinates are written,
/// is its digits as an integer (below 2^53, so exact as an `f64`) divided by a power of ten
/// (exact up to 10^22): one correctly rounded division of two exact values, which is the
/// correctly rounded value of the text (the fast path of Clinger's algorithm, the first
/// thing `parse` tries too, without its general reading of the text). Anything else goes to
/// `parse`.
pub(super) fn decimal(text: &[u8]) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let (negative, unsigned) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut mantissa = 0u64;
    let mut digits = 0;
    let mut decimals = None;
    for &b in unsigned {
        if b == b'.' {
            decimals = Some(digits);
            continue;
        }
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
        digits += 1;
    }
    let decimals = decimals.map_or(0, |before| digits - before);
    if digits > 15 || decimals >= POW10.len() {
        // Only ASCII reaches here (the cursor checked every byte).
        return std::str::from_utf8(text).ok()?.parse().ok();
    }
    let value = mantissa as f64 / POW10[decimals];
    Some(if negative { -value } else { value })
}
