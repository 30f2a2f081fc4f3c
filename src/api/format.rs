//! What every handler needs to know about a request: the representation the client wants
//! (`?f=` or `Accept`), the base URL for links, and the query parameters as sent.

use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT, HOST};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::error::ApiError;
use super::AppState;

pub const JSON: &str = "application/json";
pub const GEOJSON: &str = "application/geo+json";
pub const HTML: &str = "text/html";
pub const OPENAPI_JSON: &str = "application/vnd.oai.openapi+json;version=3.0";
pub const SCHEMA_JSON: &str = "application/schema+json";

/// A representation of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON (GeoJSON for features).
    Json,
    Html,
}

impl Format {
    /// The `f` value that asks for this format.
    pub fn param(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Html => "html",
        }
    }
}

/// The parsed parts of a request that every handler uses.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The service root for links, without a trailing slash (`http://127.0.0.1:8080`).
    pub base: String,
    pub format: Format,
    /// The query parameters in the order sent, `f` included.
    pub query: Vec<(String, String)>,
}

impl Ctx {
    /// The value of a query parameter (the first, if repeated).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// An absolute URL under the service root; `path` starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Ctx, ApiError> {
        let query: Vec<(String, String)> = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let base = base_url(state, &parts.headers);
        let f = query
            .iter()
            .find(|(k, _)| k == "f")
            .map(|(_, v)| v.as_str());
        let format = negotiate(f, &parts.headers)?;
        Ok(Ctx {
            base,
            format,
            query,
        })
    }
}

/// The service root for links: the configured public URL, or `http://` and the request's `Host`.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    match &state.config().public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let host = headers
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    }
}

/// Chooses the representation: `f` wins; otherwise the `Accept` type with the highest
/// quality among JSON, GeoJSON and HTML; JSON when the client says nothing or accepts anything.
pub fn negotiate(f: Option<&str>, headers: &HeaderMap) -> Result<Format, ApiError> {
    if let Some(f) = f {
        return match f.to_ascii_lowercase().as_str() {
            "json" | "geojson" | "application/json" | "application/geo+json" => Ok(Format::Json),
            "html" | "text/html" => Ok(Format::Html),
            other => Err(ApiError::bad_request(format!(
                "parameter f: unknown format {other:?} (use json or html)"
            ))),
        };
    }
    let Some(accept) = headers.get(ACCEPT).and_then(|a| a.to_str().ok()) else {
        return Ok(Format::Json);
    };
    let mut best: Option<(f32, u8, Format)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for p in parts {
            if let Some(v) = p.trim().strip_prefix("q=") {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        // Specific types rank above wildcards at equal quality.
        let (format, specificity) = match media.as_str() {
            "application/json" | "application/geo+json" | "application/problem+json" => {
                (Format::Json, 2)
            }
            "text/html" | "application/xhtml+xml" => (Format::Html, 2),
            "application/*" => (Format::Json, 1),
            "text/*" => (Format::Html, 1),
            "*/*" => (Format::Json, 0),
            _ => continue,
        };
        if q <= 0.0 {
            continue;
        }
        if best.is_none_or(|(bq, bs, _)| q > bq || (q == bq && specificity > bs)) {
            best = Some((q, specificity, format));
        }
    }
    match best {
        Some((_, _, format)) => Ok(format),
        None => Err(ApiError::NotAcceptable(format!(
            "no representation matches Accept: {accept} (available: application/json, \
             application/geo+json, text/html)"
        ))),
    }
}

/// A link object of OGC API responses.
pub fn link(href: String, rel: &str, media_type: &str, title: &str) -> serde_json::Value {
    serde_json::json!({"href": href, "rel": rel, "type": media_type, "title": title})
}

/// `self` and `alternate` links for a resource available as JSON (of `json_type`) and HTML.
pub fn self_links(ctx: &Ctx, path: &str, json_type: &str, title: &str) -> Vec<serde_json::Value> {
    let (this, other) = match ctx.format {
        Format::Json => (Format::Json, Format::Html),
        Format::Html => (Format::Html, Format::Json),
    };
    let media = |f: Format| if f == Format::Json { json_type } else { HTML };
    vec![
        link(
            ctx.url(&format!("{path}?f={}", this.param())),
            "self",
            media(this),
            &format!("{title} (this document)"),
        ),
        link(
            ctx.url(&format!("{path}?f={}", other.param())),
            "alternate",
            media(other),
            &format!(
                "{title} as {}",
                if other == Format::Json {
                    "JSON"
                } else {
                    "HTML"
                }
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &str) -> Result<Format, ApiError> {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT, HeaderValue::from_str(v).unwrap());
        negotiate(None, &h)
    }

    #[test]
    fn browsers_get_html_clients_get_json() {
        let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(accept(chrome).unwrap(), Format::Html);
        assert_eq!(
            accept("application/geo+json, application/json").unwrap(),
            Format::Json
        );
        assert_eq!(accept("*/*").unwrap(), Format::Json);
        assert_eq!(negotiate(None, &HeaderMap::new()).unwrap(), Format::Json);
        assert_eq!(
            accept("text/html;q=0.5, application/json").unwrap(),
            Format::Json
        );
        assert!(matches!(
            accept("image/png"),
            Err(ApiError::NotAcceptable(_))
        ));
    }

    #[test]
    fn f_wins_over_accept_and_unknown_f_is_named() {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT, HeaderValue::from_static("text/html"));
        assert_eq!(negotiate(Some("json"), &h).unwrap(), Format::Json);
        match negotiate(Some("xml"), &h) {
            Err(ApiError::BadRequest(m)) => assert!(m.contains("\"xml\""), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
