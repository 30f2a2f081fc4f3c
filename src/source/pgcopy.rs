//! A decoder for PostgreSQL's binary `COPY ... TO STDOUT (FORMAT binary)` stream, and for the
//! binary form of the column types a PostGIS layer is read with ([`Kind`]).
//!
//! The stream: the 11-byte signature `PGCOPY\n\xff\r\n\0`, a 32-bit flags word (bit 16 says OIDs
//! are included, which this reader refuses; the low 16 bits are critical flags, none defined),
//! a 32-bit length of a header extension that is skipped; then per row a 16-bit count of
//! fields followed by each field as a 32-bit length and that many bytes (length -1: SQL
//! null); the count -1 ends the stream. Every integer is big-endian.
//!
//! Values are read from their binary send form, never from text:
//! - `int2`, `int4`, `int8`: integers; `float8`: the double as sent;
//! - `float4`: the double nearest to the float's shortest decimal form, which is what its
//!   text form (`1.1`) reads as, so that a `real` column gives the same doubles as before;
//! - `numeric`: base-10000 digits turned into their decimal form and read as the nearest
//!   double (`NaN` and the infinities as such): a `numeric` column is a real field;
//! - `text`, `varchar`: UTF-8 (the connection's client encoding);
//! - `bool`;
//! - `date`: days since 2000-01-01, given as `YYYY-MM-DD`;
//! - `timestamp`, `timestamptz`: microseconds since 2000-01-01 00:00:00 (UTC for
//!   `timestamptz`), given to the whole second as `YYYY-MM-DDTHH:MM:SS+00:00`, as datetimes
//!   read from files are. A `timestamptz` is given in UTC whatever the server's `TimeZone`.
//!
//! Dates and timestamps outside the years 1 to 9999, and `infinity`, are null, as GDAL's
//! PostgreSQL reader gives them.
//!
//! Errors are typed ([`CopyError`]); mutated or truncated input gives one, never a panic, and a
//! length read from the stream is checked before anything is allocated for it.
//!
//! Cost: one pass over the stream; one buffer for the current row, reused.

use std::io::Read;

use crate::feature::{FieldType, Interner, Value};

/// The signature that starts a binary COPY stream.
pub const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// The largest field this reader accepts (PostgreSQL's own limit for one value is 1 GB).
pub const MAX_FIELD: usize = 1 << 30;

/// Fields up to this size are read into a buffer grown first; larger ones as they come.
const SMALL: usize = 1 << 16;

/// A failure reading a binary COPY stream or one of its values.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("COPY stream: not a binary COPY stream (bad signature)")]
    Signature,
    #[error("COPY stream: unsupported flags {0:#x}")]
    Flags(u32),
    #[error("COPY stream truncated")]
    Truncated,
    #[error("COPY stream: a row of {found} fields where {expected} were asked for")]
    FieldCount { expected: usize, found: i16 },
    #[error("COPY stream: bad field length {0}")]
    FieldLength(i32),
    #[error("COPY stream: data after the end marker")]
    Trailing,
    #[error("COPY stream: {0}")]
    Io(String),
    #[error("a {kind} value of {len} bytes")]
    Length { kind: &'static str, len: usize },
    #[error("a text value that is not UTF-8")]
    Utf8,
    #[error("a numeric value with a bad header or digit")]
    Numeric,
}

/// The column types read in binary. Other types are not decoded here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    /// A `numeric(p, 0)`: an integer field, as GDAL reads it.
    NumericInteger,
    Text,
    Bool,
    Date,
    Timestamp,
    TimestampTz,
}

impl Kind {
    /// The kind of a column of type `oid` (`pg_type.oid`), when it is one of those decoded.
    pub fn from_oid(oid: u32) -> Option<Kind> {
        Some(match oid {
            16 => Kind::Bool,
            20 => Kind::Int8,
            21 => Kind::Int2,
            23 => Kind::Int4,
            25 | 1043 => Kind::Text,
            700 => Kind::Float4,
            701 => Kind::Float8,
            1082 => Kind::Date,
            1114 => Kind::Timestamp,
            1184 => Kind::TimestampTz,
            1700 => Kind::Numeric,
            _ => return None,
        })
    }

    /// The kind of a column of type `oid` and type modifier `typmod` (`pg_attribute.atttypmod`:
    /// for `numeric(p, s)`, `(p << 16 | s) + 4`; -1 when unconstrained).
    pub fn from_column(oid: u32, typmod: i32) -> Option<Kind> {
        match Kind::from_oid(oid)? {
            Kind::Numeric if typmod >= 4 && (typmod - 4) & 0xffff == 0 => {
                Some(Kind::NumericInteger)
            }
            kind => Some(kind),
        }
    }

    /// The field type a column of this kind has.
    pub fn field_type(self) -> FieldType {
        match self {
            Kind::Int2 | Kind::Int4 | Kind::Int8 | Kind::NumericInteger => FieldType::Int,
            Kind::Float4 | Kind::Float8 | Kind::Numeric => FieldType::Real,
            Kind::Text => FieldType::String,
            Kind::Bool => FieldType::Bool,
            Kind::Date => FieldType::Date,
            Kind::Timestamp | Kind::TimestampTz => FieldType::DateTime,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Int2 => "int2",
            Kind::Int4 => "int4",
            Kind::Int8 => "int8",
            Kind::Float4 => "float4",
            Kind::Float8 => "float8",
            Kind::Numeric | Kind::NumericInteger => "numeric",
            Kind::Text => "text",
            Kind::Bool => "bool",
            Kind::Date => "date",
            Kind::Timestamp => "timestamp",
            Kind::TimestampTz => "timestamptz",
        }
    }
}

/// Reads the rows of a binary COPY stream of `columns` fields each.
pub struct CopyReader<R> {
    inner: R,
    columns: usize,
    data: Vec<u8>,
    fields: Vec<Option<(usize, usize)>>,
    done: bool,
}

/// One row: its fields, `None` for SQL null.
pub struct Row<'a> {
    data: &'a [u8],
    fields: &'a [Option<(usize, usize)>],
}

impl<'a> Row<'a> {
    /// Field `i` (`None` when null or past the last field).
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let (start, end) = (*self.fields.get(i)?)?;
        self.data.get(start..end)
    }
}

impl<R: Read> CopyReader<R> {
    /// Reads the header of the stream.
    pub fn new(mut inner: R, columns: usize) -> Result<Self, CopyError> {
        let mut signature = [0u8; 11];
        read_exact(&mut inner, &mut signature)?;
        if &signature != SIGNATURE {
            return Err(CopyError::Signature);
        }
        let flags = u32::from_be_bytes(read_array(&mut inner)?);
        if flags != 0 {
            return Err(CopyError::Flags(flags));
        }
        let extension = u32::from_be_bytes(read_array(&mut inner)?);
        // Skipped without allocating: read by copying into a sink.
        let skipped = std::io::copy(
            &mut (&mut inner).take(u64::from(extension)),
            &mut std::io::sink(),
        )
        .map_err(|e| CopyError::Io(e.to_string()))?;
        if skipped != u64::from(extension) {
            return Err(CopyError::Truncated);
        }
        Ok(CopyReader {
            inner,
            columns,
            data: Vec::new(),
            fields: Vec::with_capacity(columns),
            done: false,
        })
    }

    /// The next row, or `None` after the end marker (then the stream must be over).
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, CopyError> {
        if self.done {
            return Ok(None);
        }
        let count = i16::from_be_bytes(read_array(&mut self.inner)?);
        if count == -1 {
            self.done = true;
            let mut extra = [0u8; 1];
            return match self.inner.read(&mut extra) {
                Ok(0) => Ok(None),
                Ok(_) => Err(CopyError::Trailing),
                Err(e) => Err(CopyError::Io(e.to_string())),
            };
        }
        if usize::try_from(count).ok() != Some(self.columns) {
            return Err(CopyError::FieldCount {
                expected: self.columns,
                found: count,
            });
        }
        self.data.clear();
        self.fields.clear();
        for _ in 0..self.columns {
            let len = i32::from_be_bytes(read_array(&mut self.inner)?);
            if len == -1 {
                self.fields.push(None);
                continue;
            }
            let len = usize::try_from(len)
                .ok()
                .filter(|&l| l <= MAX_FIELD)
                .ok_or(CopyError::FieldLength(len))?;
            let start = self.data.len();
            if len <= SMALL {
                self.data.resize(start + len, 0);
                read_exact(&mut self.inner, &mut self.data[start..])?;
            } else {
                // Grown by what is really read, so that a false length cannot make us
                // allocate it.
                let got = (&mut self.inner)
                    .take(len as u64)
                    .read_to_end(&mut self.data)
                    .map_err(|e| CopyError::Io(e.to_string()))?;
                if got != len {
                    return Err(CopyError::Truncated);
                }
            }
            self.fields.push(Some((start, start + len)));
        }
        Ok(Some(Row {
            data: &self.data,
            fields: &self.fields,
        }))
    }
}

fn read_exact<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<(), CopyError> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => CopyError::Truncated,
        _ => CopyError::Io(e.to_string()),
    })
}

fn read_array<R: Read, const N: usize>(r: &mut R) -> Result<[u8; N], CopyError> {
    let mut out = [0u8; N];
    read_exact(r, &mut out)?;
    Ok(out)
}

fn fixed<const N: usize>(kind: Kind, bytes: &[u8]) -> Result<[u8; N], CopyError> {
    bytes.try_into().map_err(|_| CopyError::Length {
        kind: kind.name(),
        len: bytes.len(),
    })
}

/// The value of a field of kind `kind` (`None`: SQL null).
pub fn value(kind: Kind, bytes: Option<&[u8]>) -> Result<Value, CopyError> {
    value_in(kind, bytes, &mut Interner::default())
}

/// [`value`], its text shared through `interner` with the equal texts read before.
pub fn value_in(
    kind: Kind,
    bytes: Option<&[u8]>,
    interner: &mut Interner,
) -> Result<Value, CopyError> {
    let Some(b) = bytes else {
        return Ok(Value::Null);
    };
    Ok(match kind {
        Kind::Int2 => Value::Int(i16::from_be_bytes(fixed(kind, b)?).into()),
        Kind::Int4 => Value::Int(i32::from_be_bytes(fixed(kind, b)?).into()),
        Kind::Int8 => Value::Int(i64::from_be_bytes(fixed(kind, b)?)),
        Kind::Float4 => {
            let f = f32::from_be_bytes(fixed(kind, b)?);
            // The shortest decimal that reads back as this float, read as a double.
            Value::Real(if f.is_finite() {
                f.to_string().parse().unwrap_or(f64::from(f))
            } else {
                f64::from(f)
            })
        }
        Kind::Float8 => Value::Real(f64::from_be_bytes(fixed(kind, b)?)),
        Kind::Numeric => Value::Real(numeric(b)?),
        Kind::NumericInteger => numeric_integer(b)?,
        Kind::Text => {
            Value::String(interner.text(std::str::from_utf8(b).map_err(|_| CopyError::Utf8)?))
        }
        Kind::Bool => Value::Bool(u8::from_be_bytes(fixed(kind, b)?) != 0),
        Kind::Date => {
            let days = i32::from_be_bytes(fixed(kind, b)?);
            match civil(i64::from(days)) {
                Some((y, m, d)) => Value::Date(interner.text(&format!("{y:04}-{m:02}-{d:02}"))),
                None => Value::Null,
            }
        }
        Kind::Timestamp | Kind::TimestampTz => {
            let micros = i64::from_be_bytes(fixed(kind, b)?);
            let seconds = micros.div_euclid(1_000_000);
            let (days, second) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
            match civil(days) {
                Some((y, m, d)) => Value::DateTime(interner.text(&format!(
                    "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
                    second / 3600,
                    second / 60 % 60,
                    second % 60
                ))),
                None => Value::Null,
            }
        }
    })
}

/// The civil date `days` days after 2000-01-01 (proleptic Gregorian), when its year is 1 to
/// 9999 (`infinity`, sent as the extreme integers, is outside).
///
/// The inverse of counting days by 400-year eras of 146,097 days, March-based years so that
/// the leap day ends the year.
fn civil(days: i64) -> Option<(i64, u32, u32)> {
    // Days since 0000-03-01: 2000-01-01 is 730,425 days after it.
    let z = days.checked_add(730_425)?;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], from March
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = era * 400 + yoe + i64::from(month <= 2);
    (1..=9999).contains(&year).then_some((year, month, day))
}

/// A `numeric` in its binary form (digit count, weight, sign, display scale, then base-10000
/// digits, the first of weight `weight`) as the nearest double.
fn numeric(b: &[u8]) -> Result<f64, CopyError> {
    let word = |i: usize| -> Result<u16, CopyError> {
        let pair = b.get(2 * i..2 * i + 2).ok_or(CopyError::Numeric)?;
        Ok(u16::from_be_bytes([pair[0], pair[1]]))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i64::from(word(1)? as i16);
    let sign = word(2)?;
    if b.len() != 8 + 2 * ndigits {
        return Err(CopyError::Numeric);
    }
    let negative = match sign {
        0x0000 => false,
        0x4000 => true,
        0xC000 => return Ok(f64::NAN),
        0xD000 => return Ok(f64::INFINITY),
        0xF000 => return Ok(f64::NEG_INFINITY),
        _ => return Err(CopyError::Numeric),
    };
    if ndigits == 0 {
        return Ok(0.0);
    }
    let mut text = String::with_capacity(4 * ndigits + 8);
    if negative {
        text.push('-');
    }
    for i in 0..ndigits {
        let digit = word(4 + i)?;
        if digit > 9999 {
            return Err(CopyError::Numeric);
        }
        text.push_str(&format!("{digit:04}"));
    }
    // The last digit has weight `weight - (ndigits - 1)`, in powers of 10,000.
    let exponent = 4 * (weight - (ndigits as i64 - 1));
    text.push_str(&format!("e{exponent}"));
    text.parse().map_err(|_| CopyError::Numeric)
}

/// A `numeric(p, 0)` as an integer, clamped to the 64-bit range as GDAL clamps it (`NaN`
/// and the infinities: null).
fn numeric_integer(b: &[u8]) -> Result<Value, CopyError> {
    let real = numeric(b)?;
    if !real.is_finite() {
        return Ok(Value::Null);
    }
    let word = |i: usize| -> Result<u16, CopyError> {
        let pair = b.get(2 * i..2 * i + 2).ok_or(CopyError::Numeric)?;
        Ok(u16::from_be_bytes([pair[0], pair[1]]))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i64::from(word(1)? as i16);
    let negative = word(2)? == 0x4000;
    let mut n: i128 = 0;
    for i in 0..ndigits {
        if weight - (i as i64) < 0 {
            break; // a fraction, which numeric(p, 0) does not hold
        }
        n = n
            .saturating_mul(10_000)
            .saturating_add(i128::from(word(4 + i)?));
    }
    // Digits not sent (trailing zero groups) down to the units.
    for _ in ndigits as i64..=weight {
        n = n.saturating_mul(10_000);
    }
    let n = if negative { -n } else { n };
    Ok(Value::Int(
        n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(rows: &[&[Option<&[u8]>]]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend(0u32.to_be_bytes());
        out.extend(0u32.to_be_bytes());
        for row in rows {
            out.extend((row.len() as i16).to_be_bytes());
            for field in *row {
                match field {
                    None => out.extend((-1i32).to_be_bytes()),
                    Some(b) => {
                        out.extend((b.len() as i32).to_be_bytes());
                        out.extend(*b);
                    }
                }
            }
        }
        out.extend((-1i16).to_be_bytes());
        out
    }

    fn all(bytes: &[u8], columns: usize) -> Result<Vec<Vec<Option<Vec<u8>>>>, CopyError> {
        let mut reader = CopyReader::new(bytes, columns)?;
        let mut rows = Vec::new();
        while let Some(row) = reader.next_row()? {
            rows.push(
                (0..columns)
                    .map(|i| row.get(i).map(<[u8]>::to_vec))
                    .collect(),
            );
        }
        Ok(rows)
    }

    #[test]
    fn rows_and_nulls_are_read_by_hand_built_example() {
        let bytes = stream(&[&[Some(b"ab"), None], &[Some(b""), Some(b"\x01")]]);
        let rows = all(&bytes, 2).unwrap();
        assert_eq!(
            rows,
            vec![
                vec![Some(b"ab".to_vec()), None],
                vec![Some(Vec::new()), Some(vec![1])]
            ]
        );
        assert!(all(&stream(&[]), 3).unwrap().is_empty());
    }

    #[test]
    fn a_bad_stream_gets_a_typed_error() {
        let good = stream(&[&[Some(b"ab"), None]]);
        assert!(matches!(all(b"PGCOPY\n", 2), Err(CopyError::Truncated)));
        assert!(matches!(
            all(b"PGCOPX\n\xff\r\n\0\0\0\0\0\0\0\0\0", 2),
            Err(CopyError::Signature)
        ));
        let mut oids = good.clone();
        oids[12] = 1; // bit 16: OIDs included
        assert!(matches!(all(&oids, 2), Err(CopyError::Flags(0x10000))));
        assert!(matches!(
            all(&good, 3),
            Err(CopyError::FieldCount {
                expected: 3,
                found: 2
            })
        ));
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(all(&trailing, 2), Err(CopyError::Trailing)));
        let mut negative = good.clone();
        negative[21..25].copy_from_slice(&(-2i32).to_be_bytes());
        assert!(matches!(all(&negative, 2), Err(CopyError::FieldLength(-2))));
        // A length far beyond the data: refused as truncated, nothing that size allocated.
        let mut huge = good.clone();
        huge[21..25].copy_from_slice(&(1i32 << 29).to_be_bytes());
        assert!(matches!(all(&huge, 2), Err(CopyError::Truncated)));
        assert!(matches!(
            all(&good[..good.len() - 1], 2),
            Err(CopyError::Truncated)
        ));
    }

    #[test]
    fn values_are_decoded_by_hand_worked_examples() {
        assert_eq!(
            value(Kind::Int2, Some(&[0xff, 0xfb])).unwrap(),
            Value::Int(-5)
        );
        assert_eq!(
            value(Kind::Int4, Some(&[0, 1, 0, 0])).unwrap(),
            Value::Int(65_536)
        );
        assert_eq!(
            value(Kind::Int8, Some(&(-9_000_000_000i64).to_be_bytes())).unwrap(),
            Value::Int(-9_000_000_000)
        );
        // 1.1 as a float is 1.10000002384185791015625; its shortest decimal is 1.1.
        assert_eq!(
            value(Kind::Float4, Some(&1.1f32.to_be_bytes())).unwrap(),
            Value::Real(1.1)
        );
        assert_eq!(
            value(Kind::Float8, Some(&(-2.5f64).to_be_bytes())).unwrap(),
            Value::Real(-2.5)
        );
        assert_eq!(value(Kind::Bool, Some(&[1])).unwrap(), Value::Bool(true));
        assert_eq!(
            value(Kind::Text, Some("città".as_bytes())).unwrap(),
            Value::String("città".into())
        );
        assert!(matches!(
            value(Kind::Text, Some(&[0xc3])),
            Err(CopyError::Utf8)
        ));
        assert!(matches!(
            value(Kind::Int4, Some(&[0, 1])),
            Err(CopyError::Length {
                kind: "int4",
                len: 2
            })
        ));
        assert_eq!(value(Kind::Date, None).unwrap(), Value::Null);
    }

    #[test]
    fn texts_read_through_one_interner_are_shared() {
        let mut interner = Interner::default();
        let mut text = |b: &[u8]| match value_in(Kind::Text, Some(b), &mut interner) {
            Ok(Value::String(t)) => t,
            other => panic!("{other:?}"),
        };
        let (a, b, c) = (text(b"industrial"), text(b"industrial"), text(b"mixed"));
        assert!(crate::feature::Text::ptr_eq(&a, &b));
        assert!(!crate::feature::Text::ptr_eq(&a, &c));
        assert_eq!((&*a, &*c), ("industrial", "mixed"));
    }

    #[test]
    fn numerics_by_hand() {
        // -12.345: digits 12 | 3450 (weight 0), sign 0x4000, scale 3.
        let b = [0, 2, 0, 0, 0x40, 0, 0, 3, 0, 12, 0x0d, 0x7a];
        assert_eq!(numeric(&b).unwrap(), -12.345);
        // 1e8 + 1: digits 1 | 0 | 1 (weight 2).
        let b = [0, 3, 0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
        assert_eq!(numeric(&b).unwrap(), 100_000_001.0);
        // 0.0005: one digit 5 of weight -1 (5 x 10^-4).
        let b = [0, 1, 0xff, 0xff, 0, 0, 0, 4, 0, 5];
        assert_eq!(numeric(&b).unwrap(), 0.0005);
        assert_eq!(numeric(&[0, 0, 0, 0, 0, 0, 0, 0]).unwrap(), 0.0);
        assert!(numeric(&[0, 0, 0, 0, 0xc0, 0, 0, 0]).unwrap().is_nan());
        assert!(numeric(&[0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10]).is_err()); // digit 10,000
        assert!(numeric(&[0, 2, 0, 0, 0, 0, 0, 0, 0, 1]).is_err()); // one digit short
                                                                    // As integers: 1e8 + 1; 20,000 sent as one digit 2 of weight 1; -7; a clamped 10^24.
        let b = [0, 3, 0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
        assert_eq!(numeric_integer(&b).unwrap(), Value::Int(100_000_001));
        let b = [0, 1, 0, 1, 0, 0, 0, 0, 0, 2];
        assert_eq!(numeric_integer(&b).unwrap(), Value::Int(20_000));
        let b = [0, 1, 0, 0, 0x40, 0, 0, 0, 0, 7];
        assert_eq!(numeric_integer(&b).unwrap(), Value::Int(-7));
        let b = [0, 1, 0, 6, 0, 0, 0, 0, 0, 1];
        assert_eq!(numeric_integer(&b).unwrap(), Value::Int(i64::MAX));
    }

    #[test]
    fn dates_by_hand() {
        // 2000-01-01 is day 0; 1999-12-31 day -1; 2000 is a leap year (366 days); 1900 is not.
        assert_eq!(civil(0), Some((2000, 1, 1)));
        assert_eq!(civil(-1), Some((1999, 12, 31)));
        assert_eq!(civil(59), Some((2000, 2, 29)));
        assert_eq!(civil(366), Some((2001, 1, 1)));
        // 1970-01-01: 30 years back, 7 of them leap (1972..1996): 30 x 365 + 7 = 10,957 days.
        assert_eq!(civil(-10_957), Some((1970, 1, 1)));
        // 1900-03-01 is 100 x 365 + 24 leap days - 59 (Jan, Feb of 1900) before 2000-01-01.
        assert_eq!(civil(-(36_524 - 59)), Some((1900, 3, 1)));
        assert_eq!(civil(i64::from(i32::MAX)), None);
        assert_eq!(civil(i64::from(i32::MIN)), None);
        // 1970-01-01 00:00:00.5: -10,957 days of 86,400 s, plus 0.5 s, truncated.
        let micros = -10_957i64 * 86_400 * 1_000_000 + 500_000;
        assert_eq!(
            value(Kind::Timestamp, Some(&micros.to_be_bytes())).unwrap(),
            Value::DateTime("1970-01-01T00:00:00+00:00".into())
        );
        // Half a second before 2000: the previous second.
        assert_eq!(
            value(Kind::TimestampTz, Some(&(-500_000i64).to_be_bytes())).unwrap(),
            Value::DateTime("1999-12-31T23:59:59+00:00".into())
        );
    }

    /// Every one-byte change and every truncation of a stream with every kind gives a value or
    /// a typed error, never a panic.
    #[test]
    fn mutated_streams_never_panic() {
        let kinds = [
            Kind::Int2,
            Kind::Int4,
            Kind::Int8,
            Kind::Float4,
            Kind::Float8,
            Kind::Numeric,
            Kind::Text,
            Kind::Bool,
            Kind::Date,
            Kind::Timestamp,
        ];
        let fields: [&[u8]; 10] = [
            &[0, 5],
            &[0, 0, 0, 7],
            &[0, 0, 0, 0, 0, 0, 0, 9],
            &1.5f32.to_be_bytes(),
            &2.5f64.to_be_bytes(),
            &[0, 2, 0, 0, 0x40, 0, 0, 3, 0, 12, 0x0d, 0x7a],
            b"ab",
            &[1],
            &[0, 0, 0, 3],
            &[0, 0, 0, 0, 0, 0, 1, 0],
        ];
        let row: Vec<Option<&[u8]>> = fields.iter().map(|f| Some(*f)).collect();
        let good = stream(&[&row, &row]);
        let check = |bytes: &[u8]| {
            if let Ok(rows) = all(bytes, kinds.len()) {
                for row in rows {
                    for (kind, field) in kinds.iter().zip(row) {
                        let _ = value(*kind, field.as_deref());
                    }
                }
            }
        };
        for cut in 0..good.len() {
            check(&good[..cut]);
        }
        for i in 0..good.len() {
            for v in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] = v;
                check(&bad);
            }
        }
    }
}
