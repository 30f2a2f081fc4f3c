//! What every handler needs to know about a request: its query parameters, the base URL for
//! links, and what the client accepts.

use super::state::Live;
use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT, HOST};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::error::ApiError;
use super::negotiate::{negotiate, Repr};
use super::query::Query;
use super::state::ServerConfig;

/// The address of the client a request came from, put in the request's extensions by the
/// accept loop (behind a reverse proxy: the proxy's address).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::IpAddr);

/// The parsed parts of a request that every handler uses.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The service root for links, without a trailing slash (`http://127.0.0.1:8080`).
    pub base: String,
    /// The query parameters in the order sent, `f` included.
    pub query: Query,
    accept: Option<String>,
}

impl Ctx {
    /// The value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name)
    }

    /// An absolute URL under the service root; `path` starts with `/`.
    pub fn url(&self, path: &str) -> String {
        let mut url = String::with_capacity(self.base.len() + path.len());
        url.push_str(&self.base);
        url.push_str(path);
        url
    }

    /// The representation to answer among `offers` (the first is the default): `f`, then
    /// `Accept`.
    pub fn negotiate(&self, offers: &[Repr]) -> Result<Repr, ApiError> {
        negotiate(offers, self.param("f"), self.accept.as_deref())
    }
}

impl FromRequestParts<Live> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Live) -> Result<Ctx, ApiError> {
        Ok(Ctx::of(parts, state.config()))
    }
}

impl Ctx {
    /// The context of the request with `parts` (what the extractor does, for a service that
    /// is not an axum handler).
    pub fn of(parts: &Parts, config: &ServerConfig) -> Ctx {
        Ctx {
            base: base_url(config, &parts.headers),
            query: Query::parse(parts.uri.query()),
            accept: parts
                .headers
                .get(ACCEPT)
                .and_then(|a| a.to_str().ok())
                .map(str::to_string),
        }
    }
}

/// The service root for links: the configured public URL, or `http://` and the request's `Host`.
pub fn base_url(config: &ServerConfig, headers: &HeaderMap) -> String {
    match &config.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let host = headers
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
                .unwrap_or("localhost");
            let mut base = String::with_capacity(7 + host.len());
            base.push_str("http://");
            base.push_str(host);
            base
        }
    }
}
