//! The decoder of PostgreSQL's binary COPY stream that reads every row of a PostGIS layer
//! (`source::pgcopy`), on arbitrary bytes read as the stream of `COPY (SELECT key, fields,
//! ST_AsBinary(geometry)) TO STDOUT (FORMAT binary)` with one field of every kind decoded
//! ([`LAYOUT`]), as `source::postgis` reads a table.
//!
//! Invariants, beyond "no panic" and an error with a message:
//! - framing: a stream read to its end marker is exactly as long as its header, rows and
//!   marker say (the lengths recomputed here from the fields read), and written back from those
//!   fields it reads as the same rows;
//! - each field decodes to a value of its column's field type, or null, or a named error; the
//!   same bytes decoded as every other kind do too (no kind trusts its bytes);
//! - dates and timestamps agree with `time::parse_date`/`parse_timestamp` (territorio's other
//!   calendar code): the text given is the day (second) the bytes count from 2000-01-01, and
//!   null only outside the years 1 to 9999;
//! - integers, doubles and text are the bytes as sent (bit for bit);
//! - a `numeric(p, 0)` is the integer part of the `numeric` read from the same bytes, within one
//!   unit of rounding, while that fits a double's integers;
//! - the geometry column goes through `source::wkb::decode` (its own target checks more).
//!
//! The seeds (fuzz/corpus/pgcopy) are streams written by PostgreSQL 15.18 with PostGIS 3.3:
//! `\copy (SELECT gid, a, b, ..., m, ST_AsBinary(geom) FROM t) TO FILE WITH (FORMAT binary)`
//! on tables `(gid int4, a int2, b int4, c int8, d float4, e float8, f numeric,
//! g numeric(12,0), h text, i varchar(40), j bool, k date, l timestamp, m timestamptz,
//! geom geometry(Geometry, 32632))` holding ordinary rows, nulls, no row, and the extremes
//! (the integer limits, NaN and the infinities, `infinity` dates, 4713 BC, years 10000 and
//! 294276, leap days, subnormal doubles, a 39-digit numeric, an empty point).
#![no_main]

use libfuzzer_sys::fuzz_target;
use territorio::feature::{FieldType, Value};
use territorio::source::pgcopy::{self, CopyReader, Kind, SIGNATURE};
use territorio::source::wkb;
use territorio::time::{parse_date, parse_timestamp, Zone};
use territorio_fuzz::{check_geometry, check_message};

/// The columns of the stream, as `source::postgis` asks for them: the key, one field of every
/// kind, then the geometry as WKB (`None`).
const LAYOUT: [Option<Kind>; 15] = [
    Some(Kind::Int4),
    Some(Kind::Int2),
    Some(Kind::Int4),
    Some(Kind::Int8),
    Some(Kind::Float4),
    Some(Kind::Float8),
    Some(Kind::Numeric),
    Some(Kind::NumericInteger),
    Some(Kind::Text),
    Some(Kind::Text),
    Some(Kind::Bool),
    Some(Kind::Date),
    Some(Kind::Timestamp),
    Some(Kind::TimestampTz),
    None,
];

const KINDS: [Kind; 12] = [
    Kind::Int2,
    Kind::Int4,
    Kind::Int8,
    Kind::Float4,
    Kind::Float8,
    Kind::Numeric,
    Kind::NumericInteger,
    Kind::Text,
    Kind::Bool,
    Kind::Date,
    Kind::Timestamp,
    Kind::TimestampTz,
];

/// 2000-01-01, PostgreSQL's epoch, in days and seconds after 1970-01-01.
const EPOCH_DAYS: i64 = 10_957;
const EPOCH_SECONDS: i64 = EPOCH_DAYS * 86_400;

type Rows = Vec<Vec<Option<Vec<u8>>>>;

/// Every row of the stream, or the error that stopped the reading; checks the end marker.
fn read(data: &[u8]) -> Result<Rows, pgcopy::CopyError> {
    let mut reader = CopyReader::new(data, LAYOUT.len())?;
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row()? {
        assert!(row.get(LAYOUT.len()).is_none(), "a field past the last");
        rows.push(
            (0..LAYOUT.len())
                .map(|i| row.get(i).map(<[u8]>::to_vec))
                .collect(),
        );
    }
    // Over: it stays over.
    assert!(matches!(reader.next_row(), Ok(None)), "a row after the end");
    Ok(rows)
}

/// The stream of `rows` with an empty header extension.
fn write(rows: &Rows) -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    out.extend(0u32.to_be_bytes());
    out.extend(0u32.to_be_bytes());
    for row in rows {
        out.extend((row.len() as i16).to_be_bytes());
        for field in row {
            match field {
                None => out.extend((-1i32).to_be_bytes()),
                Some(b) => {
                    out.extend((b.len() as i32).to_be_bytes());
                    out.extend(b);
                }
            }
        }
    }
    out.extend((-1i16).to_be_bytes());
    out
}

fn check_value(kind: Kind, bytes: &[u8]) {
    let value = match pgcopy::value(kind, Some(bytes)) {
        Ok(v) => v,
        Err(e) => {
            check_message(&e);
            return;
        }
    };
    let of_type = match (&value, kind.field_type()) {
        (Value::Null, _) => true,
        (Value::Int(_), FieldType::Int)
        | (Value::Real(_), FieldType::Real)
        | (Value::String(_), FieldType::String)
        | (Value::Bool(_), FieldType::Bool)
        | (Value::Date(_), FieldType::Date)
        | (Value::DateTime(_), FieldType::DateTime) => true,
        _ => false,
    };
    assert!(of_type, "{kind:?} gave {value:?}");
    // The earliest and the latest day given (years 1 to 9999), after 1970-01-01.
    let first = parse_date("0001-01-01").expect("a date");
    let last = parse_date("9999-12-31").expect("a date");
    match (kind, &value) {
        (Kind::Int2, Value::Int(n)) => {
            assert_eq!(*n, i64::from(i16::from_be_bytes(bytes.try_into().unwrap())))
        }
        (Kind::Int4, Value::Int(n)) => {
            assert_eq!(*n, i64::from(i32::from_be_bytes(bytes.try_into().unwrap())))
        }
        (Kind::Int8, Value::Int(n)) => {
            assert_eq!(*n, i64::from_be_bytes(bytes.try_into().unwrap()))
        }
        (Kind::Float8, Value::Real(f)) => assert_eq!(f.to_be_bytes().as_slice(), bytes),
        (Kind::Float4, Value::Real(f)) => {
            // The double nearest the float's shortest decimal: it rounds back to the float.
            let sent = f32::from_be_bytes(bytes.try_into().unwrap());
            if sent.is_nan() {
                assert!(f.is_nan());
            } else {
                assert_eq!((*f as f32).to_bits(), sent.to_bits(), "{sent} read as {f}");
            }
        }
        (Kind::Text, Value::String(s)) => assert_eq!(s.as_bytes(), bytes),
        (Kind::Bool, Value::Bool(b)) => assert_eq!(*b, bytes != [0]),
        (Kind::Date, _) => {
            let days = i64::from(i32::from_be_bytes(bytes.try_into().unwrap()));
            let since_1970 = days + EPOCH_DAYS;
            match &value {
                Value::Date(s) => assert_eq!(parse_date(s), Some(since_1970), "{days}: {s}"),
                Value::Null => assert!(
                    since_1970 < first || since_1970 > last,
                    "{days}: a day of the years 1 to 9999 given as null"
                ),
                other => panic!("a date as {other:?}"),
            }
        }
        (Kind::Timestamp | Kind::TimestampTz, _) => {
            let micros = i64::from_be_bytes(bytes.try_into().unwrap());
            let seconds = i128::from(micros.div_euclid(1_000_000)) + i128::from(EPOCH_SECONDS);
            match &value {
                Value::DateTime(s) => assert_eq!(
                    parse_timestamp(s, Zone::Required),
                    Some(seconds * 1_000_000_000),
                    "{micros}: {s}"
                ),
                Value::Null => {
                    let day = seconds.div_euclid(86_400);
                    assert!(
                        day < i128::from(first) || day > i128::from(last),
                        "{micros}: an instant of the years 1 to 9999 given as null"
                    );
                }
                other => panic!("a timestamp as {other:?}"),
            }
        }
        (Kind::NumericInteger, Value::Int(n)) => {
            if let Ok(Value::Real(real)) = pgcopy::value(Kind::Numeric, Some(bytes)) {
                if real.is_finite() && real.abs() < 9.0e15 {
                    assert!(
                        (*n as f64 - real.trunc()).abs() <= 1.0,
                        "numeric {real} as the integer {n}"
                    );
                }
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    assert!(matches!(pgcopy::value(Kind::Text, None), Ok(Value::Null)));
    let rows = match read(data) {
        Ok(rows) => rows,
        Err(e) => {
            check_message(&e);
            return;
        }
    };
    // The framing: header (signature, flags, extension length and the extension), then per
    // row a count and each field's length and bytes, then the end marker; nothing else.
    let extension = u32::from_be_bytes(data[15..19].try_into().unwrap()) as usize;
    let rows_len: usize = rows
        .iter()
        .map(|r| {
            2 + r
                .iter()
                .map(|f| 4 + f.as_ref().map_or(0, Vec::len))
                .sum::<usize>()
        })
        .sum();
    assert_eq!(
        data.len(),
        19 + extension + rows_len + 2,
        "the stream's length"
    );
    assert_eq!(
        read(&write(&rows)).expect("written back"),
        rows,
        "the rows written back"
    );
    for row in &rows {
        for (field, kind) in row.iter().zip(LAYOUT) {
            let Some(bytes) = field else { continue };
            match kind {
                Some(kind) => check_value(kind, bytes),
                None => match wkb::decode(bytes) {
                    Ok(decoded) => check_geometry(&decoded.geometry),
                    Err(e) => check_message(&e),
                },
            }
            for other in KINDS {
                check_value(other, bytes);
            }
        }
    }
});
