//! Dates and times: one parser for every place that reads them (the `datetime` parameter of
//! OGC API - Features, CQL2 `DATE`/`TIMESTAMP` literals, and the date fields of layers), and the
//! time of a layer's features.
//!
//! Dates are ISO 8601 calendar dates (`2026-03-01`) in the proleptic Gregorian calendar, checked
//! against the length of their month (`2026-02-31` and `2023-02-29` are refused). Date-times
//! are RFC 3339 (`2026-03-01T10:00:00Z`, `...T10:00:00.25+01:00`; a space may stand for the
//! `T`). Text a client writes must carry its offset, as RFC 3339 requires; values read from
//! files may lack it (GDAL writes `2026-03-01T10:00:00` for a field without a zone) and are
//! then read as UTC, which [`Zone::MayOmit`] says.
//!
//! A layer's time ([`temporal_fields`]) is its first date or date-time field (an instant or a
//! day), or the interval between its first two (the projects' `start_date`..`end_date`; an
//! empty end is open).
//!
//! Cost: every function is O(length of the text), except [`temporal_extent`], O(features).

use crate::feature::{Feature, FieldType, Value};
use crate::store::Layer;

/// Days from 1970-01-01 to a proleptic Gregorian date (March-based year arithmetic).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `YYYY-MM-DD` as days since 1970-01-01; `None` unless it is a real calendar date.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i64::from(digits(&s[0..4])?);
    let month = digits(&s[5..7])?;
    let day = digits(&s[8..10])?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Whether a date-time must carry its UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// RFC 3339: `Z` or `±hh:mm` is required (text written by a client).
    Required,
    /// A missing offset means UTC (values read from files).
    MayOmit,
}

/// An RFC 3339 date-time as nanoseconds since 1970-01-01T00:00:00Z.
pub fn parse_timestamp(s: &str, zone_rule: Zone) -> Option<i128> {
    let s = s.trim();
    if s.len() < 19 || !s.is_char_boundary(10) {
        return None;
    }
    let days = parse_date(&s[..10])?;
    let rest = s[10..].strip_prefix(['T', 't', ' '])?;
    if rest.len() < 8 || !rest.is_char_boundary(8) {
        return None;
    }
    let (time, mut zone) = rest.split_at(8);
    let tb = time.as_bytes();
    if tb[2] != b':' || tb[5] != b':' {
        return None;
    }
    let (h, m, sec) = (
        digits(&time[0..2])?,
        digits(&time[3..5])?,
        digits(&time[6..8])?,
    );
    // 60 allows a leap second, read as the next second's start.
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let mut nanos: i128 = 0;
    if let Some(frac) = zone.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let mut scaled = 0i128;
        for (i, b) in frac.bytes().take(n).enumerate() {
            if i < 9 {
                scaled = scaled * 10 + i128::from(b - b'0');
            }
        }
        for _ in n..9 {
            scaled *= 10;
        }
        nanos = scaled;
        zone = &frac[n..];
    }
    let offset_s: i64 = match zone {
        "Z" | "z" => 0,
        "" if zone_rule == Zone::MayOmit => 0,
        z if z.len() == 6 && z.is_char_boundary(1) && z.as_bytes()[3] == b':' => {
            let sign = match &z[..1] {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let (oh, om) = (digits(&z[1..3])?, digits(&z[4..6])?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (i64::from(oh) * 3600 + i64::from(om) * 60)
        }
        _ => return None,
    };
    let seconds =
        days * 86_400 + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(sec) - offset_s;
    Some(i128::from(seconds) * 1_000_000_000 + nanos)
}

/// RFC 3339 text of a time in seconds since 1970-01-01 UTC.
pub fn rfc3339(seconds: i64) -> String {
    let (y, m, d) = civil_from_days(seconds.div_euclid(86_400));
    let s = seconds.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The current time as RFC 3339 text (the `timeStamp` of feature collections).
pub fn now_rfc3339() -> String {
    with_now_rfc3339(str::to_string)
}

/// `f` of [`now_rfc3339`]'s text, without a copy of it.
pub fn with_now_rfc3339<R>(f: impl FnOnce(&str) -> R) -> R {
    use std::cell::RefCell;
    // Written once per second and thread: every page of features carries a `timeStamp`.
    thread_local! {
        static LAST: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != now {
            *last = (now, rfc3339(now));
        }
        f(&last.1)
    })
}

/// The current time in seconds since 1970-01-01 UTC.
pub fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// The months from the one holding `from` to the one holding `to` (seconds since 1970-01-01
/// UTC), each as `YYYY-MM` with its last second, except the last month, which ends at `to`.
/// Empty when `from` is after `to`.
///
/// ```
/// # use territorio::time::{month_ends, parse_timestamp, Zone};
/// let s = |t: &str| (parse_timestamp(t, Zone::Required).unwrap() / 1_000_000_000) as i64;
/// let months = month_ends(s("2025-12-31T08:00:00Z"), s("2026-02-10T12:00:00Z"));
/// let labels: Vec<&str> = months.iter().map(|(m, _)| m.as_str()).collect();
/// assert_eq!(labels, ["2025-12", "2026-01", "2026-02"]);
/// assert_eq!(months[0].1, s("2025-12-31T23:59:59Z"));
/// assert_eq!(months[2].1, s("2026-02-10T12:00:00Z"));
/// ```
///
/// Cost: O(months).
pub fn month_ends(from: i64, to: i64) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    if from > to {
        return out;
    }
    let (mut year, mut month, _) = civil_from_days(from.div_euclid(86_400));
    loop {
        let label = format!("{year:04}-{month:02}");
        let (next_year, next_month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        let last_second = days_from_civil(next_year, next_month, 1) * 86_400 - 1;
        if last_second >= to {
            out.push((label, to));
            return out;
        }
        out.push((label, last_second));
        (year, month) = (next_year, next_month);
    }
}

/// A time span in seconds since 1970-01-01 UTC, both ends included; `None` is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Span {
    pub fn intersects(&self, other: &Span) -> bool {
        let starts_before_other_ends = match (self.start, other.end) {
            (Some(s), Some(e)) => s <= e,
            _ => true,
        };
        let ends_after_other_starts = match (self.end, other.start) {
            (Some(e), Some(s)) => e >= s,
            _ => true,
        };
        starts_before_other_ends && ends_after_other_starts
    }
}

/// The span a date (the whole day) or a date-time (that second) covers; `None` when the text
/// is neither.
pub fn span_of(text: &str, zone: Zone) -> Option<Span> {
    let t = text.trim();
    if let Some(day) = parse_date(t) {
        let midnight = day * 86_400;
        return Some(Span {
            start: Some(midnight),
            end: Some(midnight + 86_399),
        });
    }
    let at = parse_timestamp(t, zone)?.div_euclid(1_000_000_000) as i64;
    Some(Span {
        start: Some(at),
        end: Some(at),
    })
}

/// Why a time interval was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntervalError {
    #[error(
        "{0:?} is not an RFC 3339 date or date-time (examples: 2026-03-01, \
             2026-03-01T10:00:00Z, 2026-01-01/.., ../2026-12-31)"
    )]
    NotATime(String),
    #[error("the interval {0:?} is open at both ends")]
    OpenBothEnds(String),
    #[error("the interval {0:?} ends before it starts")]
    Reversed(String),
}

/// An instant, a date, or an interval `start/end` with `..` or nothing for an open end (the
/// `datetime` parameter of OGC API - Features).
pub fn parse_interval(value: &str) -> Result<Span, IntervalError> {
    let not_a_time = |s: &str| IntervalError::NotATime(s.to_string());
    let open = |s: &str| s.is_empty() || s == "..";
    match value.split_once('/') {
        None => span_of(value, Zone::Required).ok_or_else(|| not_a_time(value)),
        Some((a, b)) => {
            if open(a) && open(b) {
                return Err(IntervalError::OpenBothEnds(value.to_string()));
            }
            let start = if open(a) {
                None
            } else {
                span_of(a, Zone::Required)
                    .ok_or_else(|| not_a_time(a))?
                    .start
            };
            let end = if open(b) {
                None
            } else {
                span_of(b, Zone::Required).ok_or_else(|| not_a_time(b))?.end
            };
            if let (Some(s), Some(e)) = (start, end) {
                if s > e {
                    return Err(IntervalError::Reversed(value.to_string()));
                }
            }
            Ok(Span { start, end })
        }
    }
}

/// The date fields that give a layer's features their time: one (an instant or a day) or the
/// first two (start and end of an interval).
pub fn temporal_fields(layer: &Layer) -> Option<(usize, Option<usize>)> {
    let mut dates = layer
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.ty, FieldType::Date | FieldType::DateTime))
        .map(|(i, _)| i);
    let first = dates.next()?;
    Some((first, dates.next()))
}

/// The span a feature covers, from its temporal fields; `None` when it has no time.
pub fn feature_span(feature: &Feature, fields: (usize, Option<usize>)) -> Option<Span> {
    let span_of_field = |i: usize| match &feature.values[i] {
        Value::Date(s) | Value::DateTime(s) | Value::String(s) => span_of(s, Zone::MayOmit),
        _ => None,
    };
    match fields {
        (only, None) => span_of_field(only),
        (start, Some(end)) => {
            let (s, e) = (span_of_field(start), span_of_field(end));
            if s.is_none() && e.is_none() {
                return None;
            }
            Some(Span {
                start: s.and_then(|s| s.start),
                end: e.and_then(|e| e.end),
            })
        }
    }
}

/// The layer's time extent as RFC 3339 text: the earliest start and latest end over its
/// features, `None` for an open end; `None` when no feature has a time.
pub fn temporal_extent(layer: &Layer) -> Option<[Option<String>; 2]> {
    let fields = temporal_fields(layer)?;
    let mut lo: Option<i64> = None;
    let mut hi: Option<i64> = None;
    let mut open_start = false;
    let mut open_end = false;
    for f in &layer.features {
        if let Some(s) = feature_span(f, fields) {
            match s.start {
                Some(v) => lo = Some(lo.map_or(v, |l| l.min(v))),
                None => open_start = true,
            }
            match s.end {
                Some(v) => hi = Some(hi.map_or(v, |h| h.max(v))),
                None => open_end = true,
            }
        }
    }
    if lo.is_none() && hi.is_none() && !open_start && !open_end {
        return None;
    }
    Some([
        if open_start { None } else { lo.map(rfc3339) },
        if open_end { None } else { hi.map(rfc3339) },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_days_since_the_epoch() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("1969-12-31"), Some(-1));
        // 2000 is a leap year: 30 years of 365 days plus 7 leap days (72..96) to 2000-01-01.
        assert_eq!(parse_date("2000-01-01"), Some(30 * 365 + 7));
        assert_eq!(parse_date("2000-03-01"), Some(30 * 365 + 7 + 31 + 29));
        assert_eq!(
            parse_date("2024-02-29").map(|d| d + 1),
            parse_date("2024-03-01")
        );
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2026-02-31"), None);
        assert_eq!(parse_date("2026-04-31"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("2026-1-01"), None);
        assert_eq!(parse_date("2026-01-01T00:00:00Z"), None);
        assert_eq!(
            civil_from_days(days_from_civil(2026, 11, 30)),
            (2026, 11, 30)
        );
        assert_eq!(rfc3339(86_400 + 3_661), "1970-01-02T01:01:01Z");
    }

    #[test]
    fn timestamps_honour_offsets_and_fractions() {
        let t = |s: &str| parse_timestamp(s, Zone::Required).unwrap();
        assert_eq!(t("1970-01-01T00:00:00Z"), 0);
        assert_eq!(t("1970-01-01T01:00:00+01:00"), 0);
        assert_eq!(t("1969-12-31T23:00:00-01:00"), 0);
        assert_eq!(t("1970-01-01T00:00:01.5Z"), 1_500_000_000);
        assert_eq!(t("1970-01-01 00:00:00.000000001Z"), 1);
        assert_eq!(t("1970-01-02T00:00:00Z"), 86_400 * 1_000_000_000);
        assert_eq!(parse_timestamp("1970-01-01T00:00:00", Zone::Required), None);
        assert_eq!(
            parse_timestamp("1970-01-01T00:00:00", Zone::MayOmit),
            Some(0)
        );
        assert_eq!(
            parse_timestamp("1970-01-01T24:00:00Z", Zone::Required),
            None
        );
        assert_eq!(
            parse_timestamp("1970-01-01T00:00:00+1:00", Zone::Required),
            None
        );
        assert_eq!(
            parse_timestamp("2026-02-31T00:00:00Z", Zone::Required),
            None
        );
    }

    #[test]
    fn month_ends_are_the_last_second_of_each_month_and_then_the_end() {
        let s = |t: &str| (parse_timestamp(t, Zone::Required).unwrap() / 1_000_000_000) as i64;
        // Across a leap February and a year's end.
        let months = month_ends(s("2023-11-30T23:59:59Z"), s("2024-03-01T00:00:00Z"));
        assert_eq!(
            months,
            vec![
                ("2023-11".to_string(), s("2023-11-30T23:59:59Z")),
                ("2023-12".to_string(), s("2023-12-31T23:59:59Z")),
                ("2024-01".to_string(), s("2024-01-31T23:59:59Z")),
                ("2024-02".to_string(), s("2024-02-29T23:59:59Z")),
                ("2024-03".to_string(), s("2024-03-01T00:00:00Z")),
            ]
        );
        // One month; the end at the month's last second.
        let one = month_ends(s("2025-06-01T00:00:00Z"), s("2025-06-30T23:59:59Z"));
        assert_eq!(
            one,
            vec![("2025-06".to_string(), s("2025-06-30T23:59:59Z"))]
        );
        assert!(month_ends(10, 9).is_empty());
    }

    #[test]
    fn spans_cover_days_and_instants() {
        let day = span_of("2026-03-01", Zone::Required).unwrap();
        assert_eq!(day.end.unwrap() - day.start.unwrap(), 86_399);
        let instant = span_of("2026-03-01T10:00:00+01:00", Zone::Required).unwrap();
        assert_eq!(instant.start.unwrap() - day.start.unwrap(), 9 * 3600);
        assert_eq!(
            span_of("2026-03-01T09:00:00.250Z", Zone::Required),
            Some(instant)
        );
        assert!(span_of("2026-13-01", Zone::Required).is_none());
        assert!(span_of("yesterday", Zone::Required).is_none());
    }

    #[test]
    fn intervals_may_be_open_but_not_reversed_nor_impossible() {
        let s = parse_interval("2026-01-01/..").unwrap();
        assert!(s.end.is_none() && s.start.is_some());
        // QGIS sends far bounds instead of "..".
        assert!(parse_interval("0000-01-01T00:00:00Z/9999-12-31T23:59:59Z").is_ok());
        assert_eq!(
            parse_interval("../.."),
            Err(IntervalError::OpenBothEnds("../..".into()))
        );
        assert!(matches!(
            parse_interval("2026-02-01/2026-01-01"),
            Err(IntervalError::Reversed(_))
        ));
        // The same date the CQL2 filter refuses.
        assert_eq!(
            parse_interval("2026-02-31"),
            Err(IntervalError::NotATime("2026-02-31".into()))
        );
        assert!(parse_interval("2026-01-01/2026-02-30").is_err());
        let s = parse_interval("2026-01-01/2026-01-31").unwrap();
        assert!(s.intersects(&span_of("2026-01-31", Zone::Required).unwrap()));
        assert!(!s.intersects(&span_of("2026-02-01", Zone::Required).unwrap()));
    }
}
