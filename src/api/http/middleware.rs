//! Middleware of the API: conditional GET and one error shape for every error answer.

use std::hash::{Hash, Hasher};

use axum::extract::{Request, State};
use axum::http::header::{
    ACCEPT, ALLOW, CACHE_CONTROL, CONTENT_TYPE, ETAG, HOST, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{problem_response, PROBLEM_JSON};
use super::state::AppState;

/// Weak `ETag` and `If-None-Match` on every GET and HEAD, and `Cache-Control` on successful
/// answers.
///
/// The catalogue never changes while it is served, so an answer is determined by the request:
/// the tag is a hash of the catalogue generation, the path and query, and the request headers
/// the answer depends on (`Accept`, and `Host` when links are built from it). A matching
/// `If-None-Match` is answered 304 without running the handler. The tag is weak because the
/// same representation may be sent compressed or not, and `timeStamp` members differ.
pub async fn conditional_get(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return next.run(request).await;
    }
    let tag = {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        state.generation().hash(&mut h);
        request.uri().path().hash(&mut h);
        request.uri().query().hash(&mut h);
        let header = |name| {
            request
                .headers()
                .get(name)
                .map(|v: &HeaderValue| v.as_bytes())
        };
        header(ACCEPT).hash(&mut h);
        if state.config().public_url.is_none() {
            header(HOST).hash(&mut h);
        }
        format!("W/\"{:016x}\"", h.finish())
    };
    let cache_control = HeaderValue::from_str(&state.config().cache_control)
        .unwrap_or(HeaderValue::from_static("no-cache"));
    let matches = request
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|candidate| {
                let c = candidate.trim();
                c == "*" || c.trim_start_matches("W/") == tag.trim_start_matches("W/")
            })
        });
    let etag = HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("W/\"0\""));
    if matches {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(ETAG, etag);
        response.headers_mut().insert(CACHE_CONTROL, cache_control);
        return response;
    }
    let mut response = next.run(request).await;
    if response.status() == StatusCode::OK {
        let headers = response.headers_mut();
        headers.insert(ETAG, etag);
        headers.insert(CACHE_CONTROL, cache_control);
        headers.insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
    }
    response
}

/// Turns error answers that did not come from a handler (unknown route, wrong method, request
/// timeout, body too large) into `application/problem+json`, keeping their status and headers.
pub async fn problem_for_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return response;
    }
    let detail = match status {
        StatusCode::NOT_FOUND => format!("no resource at {path}"),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = response
                .headers()
                .get(axum::http::header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            format!("method {method} is not allowed on {path} (allowed: {allow})")
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            "the request body is larger than the server accepts".into()
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            "the request took longer than the server's time limit".into()
        }
        other => other.canonical_reason().unwrap_or("error").to_string(),
    };
    let (parts, _) = response.into_parts();
    let mut problem = problem_response(status, &detail);
    for (name, value) in parts.headers.iter() {
        if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }

    problem
}

/// Answers a plain `OPTIONS` (not a CORS preflight, which the CORS layer answers) with the
/// methods of the resource in `Allow`, as the router itself knows them. The request goes on
/// as a `TRACE`, which no route takes (and which the CORS layer, unlike `OPTIONS`, does not
/// answer itself), so the router's "method not allowed" answer lists the methods the route
/// takes. QGIS reads `Allow` to learn whether a layer can be edited. An unknown path stays a
/// 404.
pub async fn options_allow(mut request: Request, next: Next) -> Response {
    let is_preflight = request
        .headers()
        .contains_key(axum::http::header::ACCESS_CONTROL_REQUEST_METHOD);
    if request.method() != Method::OPTIONS || is_preflight {
        return next.run(request).await;
    }
    *request.method_mut() = Method::TRACE;
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let mut methods: Vec<String> = response
        .headers()
        .get(ALLOW)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("GET,HEAD")
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect();
    if !methods.iter().any(|m| m == "OPTIONS") {
        methods.push("OPTIONS".into());
    }
    // Always in the same order, the one RFC 9110 lists them in.
    const ORDER: [&str; 8] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
    ];
    methods.sort_by_key(|m| ORDER.iter().position(|o| o == m).unwrap_or(ORDER.len()));
    methods.dedup();
    let mut answer = StatusCode::NO_CONTENT.into_response();
    if let Ok(allow) = HeaderValue::from_str(&methods.join(", ")) {
        answer.headers_mut().insert(ALLOW, allow);
    }
    answer
}
