//! Helpers of the HTTP tests: the demo catalogue loaded once, answers of the router read
//! whole, problem documents, and a real server on a free port.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{mpsc, Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value as Json;
use territorio::api::App;
use tower::ServiceExt;

use territorio::api::{serve, AppState, ServerConfig};
use territorio::catalog::CatalogConfig;
use territorio::store::Catalog;

/// The demo catalogue in `examples/cremona/`, loaded once per test binary.
pub fn demo_catalog() -> Arc<Catalog> {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    CATALOG
        .get_or_init(|| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/catalog.toml");
            let config = CatalogConfig::from_file(&path).unwrap();
            Arc::new(Catalog::load(config, &|_| {}).unwrap())
        })
        .clone()
}

/// An answer of the router, its body read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Json {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header<K: header::AsHeaderName>(&self, name: K) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn content_type(&self) -> &str {
        self.header(header::CONTENT_TYPE)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A GeoJSON answer: 200, the media type, the CRS header, `numberReturned` consistent.
    pub fn geojson(&self, crs_uri: &str) -> Json {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text());
        assert_eq!(self.content_type(), "application/geo+json");
        assert_eq!(self.header("content-crs"), format!("<{crs_uri}>"));
        let fc = self.json();
        assert_eq!(fc["type"], "FeatureCollection");
        assert_eq!(
            fc["numberReturned"].as_u64().unwrap() as usize,
            fc["features"].as_array().unwrap().len()
        );
        fc
    }
}

/// Sends one request through the service `router` (with `tower::ServiceExt::oneshot`).
pub async fn send(router: App, req: Request<Body>) -> Answer {
    let response = router.oneshot(req).await.unwrap();
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes().to_vec(),
    }
}

/// Asserts a problem document with this status whose detail mentions `needle`.
pub fn assert_problem(a: &Answer, status: StatusCode, needle: &str) {
    assert_eq!(a.status, status, "{}", a.text());
    assert_eq!(a.content_type(), "application/problem+json", "{}", a.text());
    let detail = a.json()["detail"].as_str().unwrap_or("").to_string();
    assert!(
        detail.contains(needle),
        "detail {detail:?} does not mention {needle:?}"
    );
}

/// Starts `territorio`'s server on a free port in a thread of its own; returns its base URL.
/// The server runs until the test binary ends.
pub fn start_server(catalog: Arc<Catalog>) -> String {
    start_server_with(catalog, ServerConfig::default())
}

/// [`start_server`] with a configuration of the test's own (a web folder, a basemap...).
pub fn start_server_with(catalog: Arc<Catalog>, config: ServerConfig) -> String {
    let (tx, rx) = mpsc::channel::<SocketAddr>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime
            .block_on(serve(
                AppState::new(catalog, config),
                "127.0.0.1:0".parse().unwrap(),
                move |addr| tx.send(addr).unwrap(),
            ))
            .unwrap();
    });
    format!("http://{}", rx.recv().unwrap())
}
