//! The one error type of the HTTP API, sent as `application/problem+json` (RFC 9457).
//!
//! Client mistakes carry a message that names the parameter or value at fault. Internal errors
//! are logged with their detail and answered with a generic text and an id that finds the
//! log line, so no path, library message or SQL reaches the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The media type of error responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The `Retry-After` of a 503 answered because the store of edits cannot be reached, in
/// seconds: the PostgreSQL store's writer tries to reconnect at most every
/// [`crate::edit::replica::RETRY`] and fails the writes in between at once, so a client that
/// waits that long (rounded up to whole seconds, as `Retry-After` counts) makes the next write
/// an attempt to reconnect rather than one more failure. Reads of the history and of the past
/// connect anew each time, and a SQLite store file locked by another process is freed in
/// about as long. A longer fault (a database down for minutes, a full disk) answers the retry
/// with another 503 and the same hint: a client backs off by itself.
pub const STORE_RETRY_AFTER: u64 = {
    let retry = crate::edit::replica::RETRY;
    let seconds = retry.as_secs() + (retry.subsec_nanos() > 0) as u64;
    if seconds == 0 {
        1
    } else {
        seconds
    }
};

/// An error answered to the client.
#[derive(Debug)]
pub enum ApiError {
    /// 400: a malformed or unknown parameter; the text names it.
    BadRequest(String),
    /// 401 with `WWW-Authenticate`: a write without credentials, or with wrong ones.
    Unauthorized(String),
    /// 403: an account without the right to do this.
    Forbidden(String),
    /// 405 with `Allow`: a method the resource does not take (a write on a read-only layer).
    MethodNotAllowed { detail: String, allow: String },
    /// 412 with the current `ETag`: `If-Match` named another revision.
    PreconditionFailed { detail: String, etag: String },
    /// 422 listing each property that breaks a rule (`invalid-params`, RFC 9457).
    InvalidProperties {
        detail: String,
        /// (field, rule)
        problems: Vec<(String, String)>,
    },
    /// 429 with `Retry-After`: too many failed sign-ins from this client.
    TooManyRequests { detail: String, retry_after: u64 },
    /// 404: an unknown collection, feature or page.
    NotFound(String),
    /// 406: no representation in a format the client accepts.
    NotAcceptable(String),
    /// 413: a request body above the configured limit.
    PayloadTooLarge(String),
    /// 415: a request body of a media type the resource does not read.
    UnsupportedMediaType(String),
    /// 422: a well-formed request the service cannot process (e.g. an invalid geometry).
    Unprocessable(String),
    /// 503: the service is shutting down.
    Unavailable(String),
    /// 503 with `Retry-After`: more work is waiting than the server accepts to queue.
    Overloaded(String),
    /// 503 with `Retry-After` ([`STORE_RETRY_AFTER`]): the store of edits cannot be reached
    /// now (its database away, its file locked, its disk full); nothing was changed.
    StoreUnavailable(String),
    /// 500: a bug or an environment failure; the detail is logged, not sent.
    Internal(String),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::BadRequest(detail.into())
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::NotFound(detail.into())
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        ApiError::Internal(detail.to_string())
    }

    /// A read of the edit store (history, past states) that failed: a 503 when the store may
    /// answer later (its database unreachable, its file locked), else a 500. Logged with the
    /// cause; the answer names neither the database nor the file.
    pub fn store(e: crate::edit::store::StoreError) -> Self {
        let transient = e.is_transient();
        Self::store_failed(e, transient)
    }

    /// [`ApiError::store`] for features kept in the store (a change log's).
    pub fn elsewhere(e: crate::store::ElsewhereError) -> Self {
        let transient = e.transient;
        Self::store_failed(e, transient)
    }

    fn store_failed(e: impl std::fmt::Display, transient: bool) -> Self {
        if transient {
            tracing::error!("the store could not be read: {e}");
            ApiError::StoreUnavailable(
                "the history could not be read: the server's store (its data folder or its \
                 database) cannot be reached now; try again later"
                    .into(),
            )
        } else {
            ApiError::internal(e)
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::InvalidProperties { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) | ApiError::Overloaded(_) | ApiError::StoreUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The text sent to the client.
    pub fn detail(&self) -> &str {
        match self {
            ApiError::BadRequest(d)
            | ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::NotAcceptable(d)
            | ApiError::PayloadTooLarge(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::Unprocessable(d)
            | ApiError::Unavailable(d)
            | ApiError::Overloaded(d)
            | ApiError::StoreUnavailable(d) => d,
            ApiError::MethodNotAllowed { detail, .. }
            | ApiError::PreconditionFailed { detail, .. }
            | ApiError::InvalidProperties { detail, .. }
            | ApiError::TooManyRequests { detail, .. } => detail,
            ApiError::Internal(_) => "internal error; the server log has the details",
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status(), self.detail())
    }
}

/// A problem document for `status` with `detail`.
pub fn problem_response(status: StatusCode, detail: &str) -> Response {
    problem_with(status, detail, None)
}

/// A problem document with one extension member.
fn problem_with(
    status: StatusCode,
    detail: &str,
    extension: Option<(&str, serde_json::Value)>,
) -> Response {
    let mut body = json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Some((name, value)), Some(object)) = (extension, body.as_object_mut()) {
        object.insert(name.to_string(), value);
    }
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            // The detail names files, folders and library messages (GDAL, PROJ, I/O): it goes
            // to the log only. The client gets an id to quote, which finds the log line.
            let id = error_id();
            tracing::error!(error_id = %id, %detail, "internal error");
            return problem_response(
                self.status(),
                &format!("internal error {id}; the server log has the details"),
            );
        }
        if let ApiError::InvalidProperties { detail, problems } = &self {
            let params: Vec<serde_json::Value> = problems
                .iter()
                .map(|(name, reason)| json!({"name": name, "reason": reason}))
                .collect();
            return problem_with(
                self.status(),
                detail,
                Some(("invalid-params", params.into())),
            );
        }
        let mut response = problem_response(self.status(), self.detail());
        let headers = response.headers_mut();
        let text = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
        match &self {
            // Work drains in well under a second when the queue is short: try again soon.
            ApiError::Overloaded(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::StoreUnavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(STORE_RETRY_AFTER));
            }
            ApiError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"territorio\", charset=\"UTF-8\""),
                );
                headers.append(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"territorio\""),
                );
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                headers.insert(header::ALLOW, text(allow));
            }
            ApiError::PreconditionFailed { etag, .. } => {
                headers.insert(header::ETAG, text(etag));
            }
            ApiError::TooManyRequests { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            _ => {}
        }
        response
    }
}

/// A fresh id for an internal error: 16 hex digits, unpredictable across processes (a
/// counter hashed with the standard library's randomly keyed hasher).
fn error_id() -> String {
    use std::hash::BuildHasher;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:016x}",
        std::collections::hash_map::RandomState::new().hash_one(n)
    )
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(format!("blocking task failed: {e}"))
    }
}

/// A CRS failure while writing an answer: the request was checked before, so it is ours.
impl From<crate::crs::CrsError> for ApiError {
    fn from(e: crate::crs::CrsError) -> Self {
        ApiError::internal(format!("CRS: {e}"))
    }
}

/// Errors of the site report, "what is here" and the indicators.
impl From<crate::ptcp::ReportError> for ApiError {
    fn from(e: crate::ptcp::ReportError) -> Self {
        use crate::ptcp::ReportError as E;
        match e {
            E::UnknownProject { .. } | E::UnknownLayer { .. } | E::MissingRole { .. } => {
                ApiError::NotFound(e.to_string())
            }
            E::InvalidProject { .. } => ApiError::Unprocessable(e.to_string()),
            E::BadDistance { .. } | E::BadDate { .. } => ApiError::BadRequest(e.to_string()),
            // The served catalogue's own configuration: checked when the server starts.
            E::UnknownField { .. } | E::Roles(_) => ApiError::internal(e),
            E::Analysis(a) => a.into(),
        }
    }
}

/// Errors of the analysis operations: their inputs come from the request.
impl From<crate::analysis::AnalysisError> for ApiError {
    fn from(e: crate::analysis::AnalysisError) -> Self {
        use crate::analysis::AnalysisError as E;
        match e {
            E::InvalidGeometry(_) => ApiError::Unprocessable(e.to_string()),
            E::UnknownField { .. } => ApiError::BadRequest(format!("parameter group_by: {e}")),
            E::BadParameter(_) => ApiError::BadRequest(e.to_string()),
        }
    }
}

/// Errors writing the report and indicator documents: the inputs were checked, so a failure
/// other than a missing role is ours.
impl From<&crate::present::DocumentError> for ApiError {
    fn from(e: &crate::present::DocumentError) -> Self {
        match e {
            crate::present::DocumentError::Roles(r) => r.clone().into(),
            other => ApiError::internal(other),
        }
    }
}

/// "What is here" names layers that must exist.
impl From<crate::analysis::LocateError> for ApiError {
    fn from(e: crate::analysis::LocateError) -> Self {
        ApiError::NotFound(e.to_string())
    }
}

/// Edits: what the client did wrong is its status; a store that refuses is a 503 (the reads
/// go on), and only a failure of ours is a 500.
impl From<crate::edit::EditError> for ApiError {
    fn from(e: crate::edit::EditError) -> Self {
        use crate::edit::EditError as E;
        match e {
            E::UnknownLayer(_) | E::NotFound { .. } => ApiError::NotFound(e.to_string()),
            E::ReadOnly(_) => ApiError::MethodNotAllowed {
                detail: e.to_string(),
                allow: "GET, HEAD, OPTIONS".into(),
            },
            E::Stale { ref current, .. } => ApiError::PreconditionFailed {
                etag: current.clone(),
                detail: e.to_string(),
            },
            E::Invalid(ref problems) => ApiError::InvalidProperties {
                problems: problems
                    .iter()
                    .map(|p| (p.field.clone(), p.rule.clone()))
                    .collect(),
                detail: format!("the feature breaks the layer's rules: {e}"),
            },
            E::Storage {
                transient: true, ..
            } => {
                tracing::error!("edit refused by the store: {e}");
                ApiError::StoreUnavailable(
                    "the edit could not be stored (the server's store refuses writes now: its \
                     data folder, or its database is unreachable); nothing was changed: try \
                     again later"
                        .into(),
                )
            }
            E::Storage { .. } | E::Stopped => ApiError::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::store::StoreError;

    #[test]
    fn a_store_out_of_reach_is_a_503_with_retry_after_and_no_place() {
        // The writer's reconnection interval is 0.5 s: the hint is the next whole second.
        assert_eq!(crate::edit::replica::RETRY.as_millis(), 500);
        assert_eq!(STORE_RETRY_AFTER, 1);
        let away = StoreError::Postgres {
            place: "PostgreSQL host=/tmp dbname=ptcp".into(),
            transient: true,
            reason: "connection refused".into(),
        };
        let edit = crate::edit::EditError::Storage {
            message: away.to_string(),
            transient: true,
        };
        for e in [ApiError::store(away), ApiError::from(edit)] {
            let response = e.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()[header::RETRY_AFTER], "1");
            assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        }
        // A store that cannot be read for good is a 500, with no hint to come back.
        let corrupt = StoreError::Postgres {
            place: "PostgreSQL dbname=ptcp".into(),
            transient: false,
            reason: "store format 9".into(),
        };
        let response = ApiError::store(corrupt).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }
}
