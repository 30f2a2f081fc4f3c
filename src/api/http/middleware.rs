//! Middleware of the API: conditional GET, one error shape for every error answer, the
//! methods of a resource for a plain `OPTIONS`, and the security headers of every answer
//! (`Content-Security-Policy` and `X-Frame-Options` on HTML, `X-Content-Type-Options`).
//!
//! Each is a tower layer applied once around the whole router (not to each route), that
//! calls the service inside it directly: no copy of the services inside per request, one
//! boxed future per layer.

use std::convert::Infallible;
use std::future::Future;
use std::hash::{BuildHasher, Hash, Hasher};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::header::{
    ACCEPT, ALLOW, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, HOST, IF_NONE_MATCH,
    VARY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::BoxError;
use tower::{Layer, Service};

use super::error::{problem_response, PROBLEM_JSON};
use super::html;
use super::state::{AppState, Live, ServerConfig};

/// The future of every layer here.
pub type BoxFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

/// Weak `ETag` and `If-None-Match` on every GET and HEAD, and `Cache-Control` on successful
/// answers.
///
/// A snapshot of the catalogue never changes, so an answer is determined by the request and
/// the snapshot: the tag is a hash of the snapshot's generation (for a path under
/// `/collections/{id}`, of that layer's: an edit of the projects does not change the tags of
/// the zones), the path and query, and the request headers the answer depends on (`Accept`,
/// and `Host` when links are built from it; for the monitoring, which judges lateness on
/// today's date, the day). A matching `If-None-Match` is answered 304
/// without running the handler. The tag is weak because the same representation may be sent
/// compressed or not, and `timeStamp` members differ.
///
/// The tag is taken before the handler takes its snapshot, so it is never newer than the
/// answer: at worst a client revalidates once more than it needed to.
///
/// `Cache-Control` is the configured one, except where an answer can change with an edit:
/// the collections of editable layers, and, when the catalogue has any, every other answer
/// but the styles and the web map's files get `no-cache` (a client may keep the answer but
/// revalidates it by its tag each time: QGIS would otherwise show an edited layer as it was
/// for up to the configured `max-age`).
#[derive(Clone)]
pub struct ConditionalGetLayer {
    live: Live,
    cache_control: HeaderValue,
}

impl ConditionalGetLayer {
    pub fn new(state: AppState) -> ConditionalGetLayer {
        let cache_control = HeaderValue::from_str(&state.config().cache_control)
            .unwrap_or(HeaderValue::from_static("no-cache"));
        ConditionalGetLayer {
            live: state.live(),
            cache_control,
        }
    }
}

/// The generation an answer at `path` depends on, and whether it can change with an edit.
fn generation_of(state: &AppState, path: &str) -> (u64, bool) {
    let catalog = state.catalog();
    if let Some(rest) = path.strip_prefix("/collections/") {
        let id = rest.split('/').next().unwrap_or_default();
        if let Some(layer) = catalog.layer(id) {
            return (state.generation_of(layer), layer.config.is_editable());
        }
    }
    let any_editable = catalog.layers().iter().any(|l| l.config.is_editable());
    let fixed = path.starts_with("/styles") || path.starts_with("/map");
    (state.generation(), any_editable && !fixed)
}

impl<S> Layer<S> for ConditionalGetLayer {
    type Service = ConditionalGet<S>;
    fn layer(&self, inner: S) -> ConditionalGet<S> {
        ConditionalGet {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`ConditionalGetLayer`].
#[derive(Clone)]
pub struct ConditionalGet<S> {
    inner: S,
    layer: ConditionalGetLayer,
}

impl<S> Service<Request> for ConditionalGet<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> BoxFuture {
        // Readiness changes with no catalogue change: never answered from a tag.
        let probe = request.uri().path() == "/health/ready";
        if (request.method() != Method::GET && request.method() != Method::HEAD) || probe {
            return Box::pin(self.inner.call(request));
        }
        let state = self.layer.live.state();
        let (generation, editable) = generation_of(&state, request.uri().path());
        let tag = {
            // foldhash: the tag needs no defence against chosen collisions (it is compared with
            // tags of the same path only), and SipHash took ten times as long over a query.
            let mut h =
                foldhash::quality::FixedState::with_seed(0x7465_7272_6974_6f72).build_hasher();
            generation.hash(&mut h);
            request.uri().path().hash(&mut h);
            request.uri().query().hash(&mut h);
            // The monitoring judges lateness on today's date, and its series ends with the
            // current month: its answers change with the day, not only with the catalogue.
            if request.uri().path().starts_with("/indicators/monitoring") {
                crate::time::now_seconds().div_euclid(86_400).hash(&mut h);
            }
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
            h.finish()
        };
        let etag = {
            let mut text = [0u8; 20];
            text[..3].copy_from_slice(b"W/\"");
            for (k, slot) in text[3..19].iter_mut().enumerate() {
                *slot = b"0123456789abcdef"[((tag >> (60 - 4 * k)) & 0xf) as usize];
            }
            text[19] = b'"';
            HeaderValue::from_bytes(&text).unwrap_or(HeaderValue::from_static("W/\"0\""))
        };
        let strong = &etag.as_bytes()[2..];
        let matches = request
            .headers()
            .get(IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',').any(|candidate| {
                    let c = candidate.trim();
                    c == "*" || c.trim_start_matches("W/").as_bytes() == strong
                })
            });
        let cache_control = if editable {
            HeaderValue::from_static("no-cache")
        } else {
            self.layer.cache_control.clone()
        };
        if matches {
            let mut response = StatusCode::NOT_MODIFIED.into_response();
            response.headers_mut().insert(ETAG, etag);
            response.headers_mut().insert(CACHE_CONTROL, cache_control);
            return Box::pin(std::future::ready(Ok(response)));
        }
        let answer = self.inner.call(request);
        Box::pin(async move {
            let mut response = answer.await?;
            if response.status() == StatusCode::OK {
                let headers = response.headers_mut();
                // A handler's own (strong) tag wins: a feature of an editable layer has one.
                if !headers.contains_key(ETAG) {
                    headers.insert(ETAG, etag);
                }
                headers.insert(CACHE_CONTROL, cache_control);
                // Accept-Encoding first: the compression layer looks for it in Vary on every
                // answer it may compress, and finds it at once.
                headers.insert(VARY, HeaderValue::from_static("Accept-Encoding, Accept"));
            }
            Ok(response)
        })
    }
}

/// Turns error answers that did not come from a handler (unknown route, wrong method, request
/// timeout, body too large) into `application/problem+json`, keeping their status and headers.
#[derive(Clone, Copy, Default)]
pub struct ProblemLayer;

impl<S> Layer<S> for ProblemLayer {
    type Service = Problem<S>;
    fn layer(&self, inner: S) -> Problem<S> {
        Problem { inner }
    }
}

/// The service of [`ProblemLayer`].
#[derive(Clone)]
pub struct Problem<S> {
    inner: S,
}

impl<S> Service<Request> for Problem<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> BoxFuture {
        // Cheap to keep: `Uri` shares its bytes, `Method` is a small value.
        let uri = request.uri().clone();
        let method = request.method().clone();
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            Ok(as_problem(response, &method, uri.path()))
        })
    }
}

/// Marks an error answer whose body is the resource's own document, not to be replaced by a
/// problem document (the readiness probe's 503 carries its JSON status).
#[derive(Debug, Clone, Copy)]
pub struct OwnErrorBody;

fn as_problem(response: Response, method: &Method, path: &str) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<OwnErrorBody>().is_some()
    {
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
                .get(ALLOW)
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
/// 404. A resource may answer the `TRACE` itself instead ([`PlainOptions`]).
///
/// The outermost layer: it also gives every answer the one body type of the service.
#[derive(Clone, Copy, Default)]
pub struct OptionsAllowLayer;

impl<S> Layer<S> for OptionsAllowLayer {
    type Service = OptionsAllow<S>;
    fn layer(&self, inner: S) -> OptionsAllow<S> {
        OptionsAllow { inner }
    }
}

/// The service of [`OptionsAllowLayer`].
#[derive(Clone)]
pub struct OptionsAllow<S> {
    inner: S,
}

impl<S, B> Service<Request> for OptionsAllow<S>
where
    S: Service<Request, Response = axum::http::Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> BoxFuture {
        let is_preflight = request
            .headers()
            .contains_key(axum::http::header::ACCESS_CONTROL_REQUEST_METHOD);
        let plain_options = request.method() == Method::OPTIONS && !is_preflight;
        if plain_options {
            *request.method_mut() = Method::TRACE;
            request.extensions_mut().insert(PlainOptions);
        }
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?.map(Body::new);
            if !plain_options || response.status() != StatusCode::METHOD_NOT_ALLOWED {
                return Ok(response);
            }
            Ok(allow_answer(&response))
        })
    }
}

/// Marks a plain `OPTIONS` that [`OptionsAllowLayer`] passes on as a `TRACE`. A resource
/// whose `Allow` depends on the layer and the caller (the items of a collection: the edit
/// methods are listed only to those who may use them) takes `TRACE` with this mark and
/// answers it itself; a real `TRACE`, without the mark, it refuses.
#[derive(Debug, Clone, Copy)]
pub struct PlainOptions;

/// `204 No Content` with the methods of a "method not allowed" answer in `Allow`, `OPTIONS`
/// added, in the order RFC 9110 lists them.
fn allow_answer(not_allowed: &Response) -> Response {
    let mut methods: Vec<String> = not_allowed
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

/// Which answers the compression layer compresses: exactly those tower-http's default
/// predicate takes (a body of at least 32 bytes or of unknown size, and not gRPC, not an image
/// other than SVG, not an event stream), with `Content-Type` looked up once instead of once
/// per rule. The compression layer asks on every answer, whether the client takes a
/// compressed one or not.
#[derive(Clone, Copy, Debug, Default)]
pub struct Compressible;

impl tower_http::compression::Predicate for Compressible {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: HttpBody,
    {
        let size = response.body().size_hint().exact().or_else(|| {
            response
                .headers()
                .get(axum::http::header::CONTENT_LENGTH)
                .and_then(|h| h.to_str().ok())
                .and_then(|v| v.parse().ok())
        });
        if size.is_some_and(|n| n < 32) {
            return false;
        }
        let media_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let refused = |prefix: &str, except: Option<&str>| {
            media_type.starts_with(prefix) && !except.is_some_and(|e| media_type.starts_with(e))
        };
        !refused("application/grpc", Some("application/grpc-web"))
            && !refused("image/", Some("image/svg+xml"))
            && !refused("text/event-stream", None)
    }
}

/// Security headers on every answer: `X-Content-Type-Options: nosniff` (a JSON or CSV answer
/// whose data contains markup is never sniffed as HTML), and on HTML answers (the API's pages
/// and the web map) a `Content-Security-Policy`, made once from the configuration by
/// [`content_security_policy`], and `X-Frame-Options: DENY`.
#[derive(Clone)]
pub struct SecurityHeadersLayer {
    csp: HeaderValue,
}

impl SecurityHeadersLayer {
    pub fn new(config: &ServerConfig) -> SecurityHeadersLayer {
        let csp = HeaderValue::from_str(&content_security_policy(config))
            .unwrap_or(HeaderValue::from_static("default-src 'self'"));
        SecurityHeadersLayer { csp }
    }
}

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;
    fn layer(&self, inner: S) -> SecurityHeaders<S> {
        SecurityHeaders {
            inner,
            csp: self.csp.clone(),
        }
    }
}

/// The service of [`SecurityHeadersLayer`].
#[derive(Clone)]
pub struct SecurityHeaders<S> {
    inner: S,
    csp: HeaderValue,
}

impl<S> Service<Request> for SecurityHeaders<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> BoxFuture {
        let answer = self.inner.call(request);
        let csp = self.csp.clone();
        Box::pin(async move {
            let mut response = answer.await?;
            let is_html = response
                .headers()
                .get(CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
            let headers = response.headers_mut();
            headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            if is_html {
                headers.insert(CONTENT_SECURITY_POLICY, csp);
                headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            }
            Ok(response)
        })
    }
}

/// The `Content-Security-Policy` of HTML answers.
///
/// - Scripts only from the service itself (`script-src 'self'`): no inline script, no
///   `eval`, nothing from another host. The API's pages have no script at all; the web map
///   is ES modules and MapLibre GL JS served under `/map/`.
/// - Styles only from the service, and the one `<style>` element of the API's pages by its
///   hash ([`html::style_hash_source`]): no `'unsafe-inline'`, so no `style` attribute or
///   `<style>` element that reached a page as markup applies. The web map's style sheets are
///   files; its scripts set colours through the CSSOM (`element.style`), which a policy does
///   not govern.
/// - Images and fetches (`img-src`, `connect-src`): the service, plus `data:` and `blob:`
///   images (MapLibre decodes tiles and icons into them) and the origin of the configured
///   raster basemap, whose tiles MapLibre fetches. With `public_url` set, the API's links
///   point at it, so its origin is allowed to be fetched too.
/// - Workers (`worker-src`, `child-src` for older browsers): the service and `blob:`, which
///   MapLibre GL JS uses to start its workers.
/// - No plugins (`object-src 'none'`), no `<base>` elsewhere, forms only to the service.
/// - Framed by no page at all (`frame-ancestors 'none'`, and `X-Frame-Options: DENY` for
///   browsers that predate it): the map has a sign-in form and an editor, which a page
///   framing them could overlay to trick a signed-in editor into clicks (clickjacking). The
///   service never frames its own pages, so `'self'` would allow nothing it needs, and
///   behind a reverse proxy it would let every other application on the same host frame them.
pub fn content_security_policy(config: &ServerConfig) -> String {
    let mut remote = String::new();
    for url in [&config.basemap_url, &config.public_url]
        .into_iter()
        .flatten()
    {
        if let Some(origin) = origin(url) {
            if !remote.split(' ').any(|o| o == origin) {
                remote.push(' ');
                remote.push_str(&origin);
            }
        }
    }
    let page_style = html::style_hash_source();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' {page_style}; \
         img-src 'self' data: blob:{remote}; connect-src 'self'{remote}; \
         worker-src 'self' blob:; child-src 'self' blob:; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// `scheme://host[:port]` of an http(s) URL, as a CSP source; `None` when the URL is not
/// http(s) or its host holds anything but the characters of a host name (a template
/// placeholder, a space or a `;` would change the policy's meaning).
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let plain = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    plain.then(|| format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body whose size is not known in advance (a stream).
    struct Unsized(Option<Bytes>);

    impl HttpBody for Unsized {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
            Poll::Ready(self.0.take().map(|b| Ok(hyper::body::Frame::data(b))))
        }
    }

    #[test]
    fn compressible_answers_are_those_of_the_default_predicate() {
        use tower_http::compression::predicate::{DefaultPredicate, Predicate};
        let types = [
            None,
            Some("application/geo+json"),
            Some("application/json"),
            Some("text/html; charset=utf-8"),
            Some("application/grpc"),
            Some("application/grpc+proto"),
            Some("application/grpc-web"),
            Some("image/png"),
            Some("image/svg+xml"),
            Some("image/"),
            Some("text/event-stream"),
            Some("application/vnd.mapbox-vector-tile"),
            Some("imagex"),
            Some(""),
        ];
        for media_type in types {
            for size in [0usize, 1, 31, 32, 33, 1500] {
                for length_header in [false, true] {
                    // A body of known size, and a stream whose size only Content-Length
                    // (when given) tells.
                    let known = {
                        let mut r = Response::new(Body::from(vec![b'x'; size]));
                        if let Some(t) = media_type {
                            r.headers_mut()
                                .insert(CONTENT_TYPE, HeaderValue::from_str(t).unwrap());
                        }
                        r
                    };
                    let streamed = {
                        let mut r =
                            axum::http::Response::new(Unsized(Some(Bytes::from(vec![b'x'; size]))));
                        if let Some(t) = media_type {
                            r.headers_mut()
                                .insert(CONTENT_TYPE, HeaderValue::from_str(t).unwrap());
                        }
                        if length_header {
                            r.headers_mut().insert(
                                axum::http::header::CONTENT_LENGTH,
                                HeaderValue::from(size),
                            );
                        }
                        r
                    };
                    assert_eq!(
                        Compressible.should_compress(&known),
                        DefaultPredicate::new().should_compress(&known),
                        "{media_type:?}, {size} bytes"
                    );
                    assert_eq!(
                        Compressible.should_compress(&streamed),
                        DefaultPredicate::new().should_compress(&streamed),
                        "{media_type:?}, {size} bytes streamed, length header {length_header}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_policy_names_the_basemap_origin_only() {
        let plain = content_security_policy(&ServerConfig::default());
        assert!(plain.contains("script-src 'self';"), "{plain}");
        assert!(plain.contains("connect-src 'self';"), "{plain}");
        let with_basemap = content_security_policy(&ServerConfig {
            basemap_url: Some("https://tile.example.org:8443/osm/{z}/{x}/{y}.png".into()),
            public_url: Some("https://gis.example.org/territorio".into()),
            ..Default::default()
        });
        assert!(
            with_basemap.contains(
                "connect-src 'self' https://tile.example.org:8443 https://gis.example.org;"
            ),
            "{with_basemap}"
        );
        assert!(with_basemap.contains("img-src 'self' data: blob: https://tile.example.org:8443"));
    }

    #[test]
    fn origins_with_anything_but_a_host_are_left_out() {
        assert_eq!(
            origin("https://a.tile.org/{z}/{x}/{y}.png").as_deref(),
            Some("https://a.tile.org")
        );
        assert_eq!(origin("https://{s}.tile.org/{z}/{x}/{y}.png"), None);
        assert_eq!(origin("https://x.org;script-src */{z}"), None);
        assert_eq!(origin("file:///tmp/{z}/{x}/{y}.png"), None);
        assert_eq!(
            origin("http://user@tiles.local:8080/{z}").as_deref(),
            Some("http://tiles.local:8080")
        );
    }
}
