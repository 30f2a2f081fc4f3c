//! Answers as they stood at a past instant: the `at` parameter of the resources that take it
//! (the indicators, the site reports, the monitoring), read once here, and the catalogue at
//! that instant with a geometry cache of its own ([`Past`]).
//!
//! The past comes from the store's change log ([`crate::edit::timeline`]), so only a server
//! with a data folder has one: elsewhere `at` is a 400 saying the server keeps no history.
//! Every layer that takes no edits is the same at any instant, and shared with the present.

use super::error::ApiError;
use super::param::{Param, Schema};
use super::request::Ctx;
use super::state::AppState;
use crate::edit::timeline::{self, InstantError};
use crate::geojson_io::GeometryCache;
use crate::store::Catalog;
use crate::time;

/// What `at` may be: a date, or an RFC 3339 date-time with its offset (the parser also
/// checks the calendar and the clock).
pub const AT_PATTERN: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$";

/// The `at` parameter.
pub const AT: Param<'static> = Param::new(
    "at",
    Schema::Pattern(AT_PATTERN),
    "The answer as it stood at this instant, computed from the history of the edited layers: \
     a date (YYYY-MM-DD: the end of that day in UTC; today means now) or an RFC 3339 \
     date-time with its offset (2025-03-01T12:00:00Z; a + in a query string must be sent as \
     %2B). Not in the future, and only on a server that keeps the history of edits (one \
     started with a data folder): elsewhere a 400. Without at, the answer is for now.",
);

/// The catalogue at a past instant.
pub struct Past {
    /// Seconds since 1970-01-01 UTC.
    pub at: i64,
    pub catalog: Catalog,
    /// The CRS84 geometries of `catalog`: the edited layers' start empty, the others are the
    /// served snapshot's.
    pub geometries: GeometryCache,
}

impl Past {
    /// The instant, RFC 3339 in UTC.
    pub fn at_text(&self) -> String {
        time::rfc3339(self.at)
    }
}

/// The instant `at` names (seconds since 1970-01-01 UTC), or `None` when the request has no
/// `at`. A 400 naming the parameter when it is malformed or in the future, or when the server
/// keeps no history.
pub fn instant(state: &AppState, ctx: &Ctx) -> Result<Option<i64>, ApiError> {
    let Some(value) = ctx.param(AT.name) else {
        return Ok(None);
    };
    if state.editor().is_none() {
        return Err(ApiError::bad_request(
            "parameter at: this server keeps no history (it was started without a data \
             folder, --data-dir), so it answers only for now: leave at out",
        ));
    }
    parse(value, time::now_seconds()).map(Some)
}

/// Reads `value` as an instant at `now`.
fn parse(value: &str, now: i64) -> Result<i64, ApiError> {
    timeline::parse_instant(value, now).map_err(|e| {
        let mut detail = format!("parameter at: {e}");
        // `+01:00` sent as is arrives as ` 01:00` (a + in a query string is a space).
        if matches!(e, InstantError::NotATime(_))
            && value.len() > 19
            && timeline::parse_instant(&value.replace(' ', "+"), now).is_ok()
        {
            detail.push_str(" (a + in a query string is read as a space: send it as %2B)");
        }
        ApiError::bad_request(detail)
    })
}

/// The served catalogue as it stood at `at`. Blocking (it reads the store): call it on the
/// blocking pool. A 503 when the store cannot be reached now, a 500 when it cannot be read.
pub fn catalog_at(state: &AppState, at: i64) -> Result<Past, ApiError> {
    let Some(editor) = state.editor() else {
        return Err(ApiError::internal(
            "a past catalogue was asked of a server without history",
        ));
    };
    let (catalog, replaced) = timeline::catalog_at(state.catalog(), editor.store_at(), at)
        .map_err(|e| match e {
            timeline::TimelineError::Store(e) => ApiError::store(e),
            other => ApiError::internal(other),
        })?;
    let mut geometries = None;
    for pos in replaced {
        let next = geometries
            .as_ref()
            .unwrap_or(state.geometries())
            .after_change(&catalog, pos);
        geometries = Some(next);
    }
    let geometries = geometries.unwrap_or_else(|| state.geometries().fresh(&catalog));
    Ok(Past {
        at,
        catalog,
        geometries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_sent_with_a_bare_plus_gets_a_hint() {
        let now = 1_764_676_800; // 2025-12-02T12:00:00Z
        let e = parse("2025-03-01T10:00:00 01:00", now).unwrap_err();
        assert!(e.detail().starts_with("parameter at:"), "{}", e.detail());
        assert!(e.detail().contains("%2B"), "{}", e.detail());
        let e = parse("2025-13-01", now).unwrap_err();
        assert!(!e.detail().contains("%2B"), "{}", e.detail());
        let e = parse("2025-12-03", now).unwrap_err();
        assert!(e.detail().contains("in the future"), "{}", e.detail());
        assert_eq!(
            parse("2025-03-01T10:00:00+01:00", now).unwrap(),
            1_740_819_600
        );
    }

    #[test]
    fn what_the_parser_reads_is_what_the_pattern_says() {
        // The document's pattern, spelled out: a schema-valid value must not be refused as
        // malformed, and a value the schema forbids must not be read.
        for ok in [
            "2025-03-01",
            "2025-03-01T10:00:00Z",
            "2025-03-01t10:00:00z",
            "2025-03-01 10:00:00+01:00",
            "2025-03-01T10:00:00.25-05:30",
        ] {
            assert!(parse(ok, 1_764_676_800).is_ok(), "{ok}");
        }
        for bad in [
            "2025-03-01T10:00:00",
            " 2025-03-01",
            "2025-03-01T10:00Z",
            "2025-3-01",
        ] {
            assert!(parse(bad, 1_764_676_800).is_err(), "{bad}");
        }
    }
}
