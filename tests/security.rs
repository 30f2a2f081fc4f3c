//! Hostile requests and hostile data: path traversal on the two routes that serve files
//! (`/map/...` from the web folder, `/styles/...` from the styles folder), markup in the
//! data shown on the HTML pages, the `Content-Security-Policy` and frame options of HTML
//! answers, and what an internal error tells the client.
//!
//! Every folder is a temporary copy holding a secret file beside it (and symbolic links to
//! it inside), so a test can tell whether anything outside the folder was read: the secret's
//! marker must never come back. Attacks the router sees are sent with `oneshot`; those whose
//! raw form the `Uri` type would refuse or that a client could send unnormalised (`..`,
//! backslashes) go to a real server over TCP, byte for byte.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use common::http::{demo_catalog, send, start_server_with, Answer};
use territorio::api::{app, AppState, ServerConfig};
use territorio::catalog::CatalogConfig;
use territorio::store::Catalog;

/// What the secret files hold: seen in an answer, something outside a folder was read.
const SECRET: &str = "SECRET-7f3a9c";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// A web folder for the map in `tmp/web` (the repository's page files, a stand-in for
/// MapLibre's `dist/`), `tmp/secret.js` beside it, and inside the folder `evil.js` and
/// `dist/evil.js` linking to the secret and `alias.js` linking to `map.js`.
fn web_folder(tmp: &Path) -> PathBuf {
    let web = tmp.join("web");
    copy_dir(&root().join("web"), &web);
    let dist = web.join("node_modules/maplibre-gl/dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("maplibre-gl.mjs"), "export default {};\n").unwrap();
    let secret = tmp.join("secret.js");
    std::fs::write(&secret, format!("// {SECRET}\n")).unwrap();
    #[cfg(unix)]
    {
        symlink(&secret, &web.join("evil.js"));
        symlink(&secret, &dist.join("evil.js"));
        symlink(Path::new("map.js"), &web.join("alias.js"));
    }
    web
}

/// The demo catalogue with its styles read from a copy in `tmp/styles`, where `roads.qml`
/// and `railways.json` are links to secret files beside the folder.
fn catalog_with_styles(tmp: &Path) -> Arc<Catalog> {
    let demo = root().join("examples/cremona");
    let styles = tmp.join("styles");
    copy_dir(&demo.join("styles"), &styles);
    let qml = tmp.join("secret.qml");
    std::fs::write(&qml, format!("<qgis><!-- {SECRET} --></qgis>\n")).unwrap();
    let json = tmp.join("secret.json");
    std::fs::write(
        &json,
        format!("[{{\"id\": \"{SECRET}\", \"type\": \"line\"}}]\n"),
    )
    .unwrap();
    #[cfg(unix)]
    for (file, target) in [("roads.qml", &qml), ("railways.json", &json)] {
        std::fs::remove_file(styles.join(file)).unwrap();
        symlink(target, &styles.join(file));
    }
    let mut config = CatalogConfig::from_file(&demo.join("catalog.toml")).unwrap();
    config.styles_dir = styles;
    Arc::new(Catalog::load(config, &|_| {}).unwrap())
}

async fn get(catalog: Arc<Catalog>, config: ServerConfig, uri: &str) -> Answer {
    let request = Request::get(uri)
        .header(header::HOST, "test.local")
        .body(Body::empty())
        .unwrap();
    send(app(AppState::new(catalog, config)), request).await
}

fn with_web(web: &Path) -> ServerConfig {
    ServerConfig {
        web_dir: Some(web.to_path_buf()),
        ..Default::default()
    }
}

/// A 404 problem document that holds nothing of the secret.
fn assert_refused(a: &Answer, what: &str) {
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{what}: {}", a.text());
    assert_eq!(a.content_type(), "application/problem+json", "{what}");
    assert!(!a.text().contains(SECRET), "{what}: {}", a.text());
}

/// Attacks on `/map/...` as the router gets them: `..` and separators percent-encoded once
/// and twice, backslashes, absolute paths, NUL bytes.
fn map_attacks(tmp: &Path) -> Vec<String> {
    let secret = tmp.join("secret.js");
    let absolute: String = secret
        .to_str()
        .unwrap()
        .bytes()
        .map(|b| match b {
            b'/' => "%2F".to_string(),
            b => (b as char).to_string(),
        })
        .collect();
    let mut attacks: Vec<String> = [
        "%2e%2e%2fsecret.js",
        "%2E%2E%2Fsecret.js",
        "..%2fsecret.js",
        "%2e%2e/secret.js",
        "../secret.js",
        "%252e%252e%252fsecret.js",
        "..%252fsecret.js",
        "..%5csecret.js",
        "%5c..%5csecret.js",
        "..%5c..%5cweb%5c..%5csecret.js",
        "..%2fsecret.js%00.js",
        "secret.js%00",
        "%00..%2fsecret.js",
        "%c0%ae%c0%ae%c0%afsecret.js",
        ".%2e/secret.js",
        "evil.js",
        ".%2fevil.js",
        "package.json",
        "vendor/maplibre-gl/evil.js",
        "vendor/maplibre-gl/..%2f..%2f..%2f..%2fsecret.js",
        "vendor/maplibre-gl/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.js",
        "vendor/maplibre-gl/%252e%252e%252f%252e%252e%252fsecret.js",
        "vendor/maplibre-gl/..%5c..%5c..%5c..%5csecret.js",
    ]
    .iter()
    .map(|a| format!("/map/{a}"))
    .collect();
    attacks.push(format!("/map/{absolute}"));
    attacks.push(format!("/map/vendor/maplibre-gl/{absolute}"));
    attacks.push(format!("/map/%2F{absolute}"));
    attacks
}

#[tokio::test]
async fn map_files_outside_the_web_folder_are_404() {
    let tmp = tempfile::tempdir().unwrap();
    let web = web_folder(tmp.path());
    let catalog = demo_catalog();
    // The folder serves its own files, links inside it included.
    for ok in [
        "/map/",
        "/map/map.js",
        "/map/alias.js",
        "/map/vendor/maplibre-gl/maplibre-gl.mjs",
    ] {
        let a = get(catalog.clone(), with_web(&web), ok).await;
        assert_eq!(a.status, StatusCode::OK, "{ok}: {}", a.text());
    }
    for attack in map_attacks(tmp.path()) {
        let a = get(catalog.clone(), with_web(&web), &attack).await;
        // A path that is not UTF-8 once decoded is refused by the path extractor (400)
        // before the handler runs; every other attempt is the handler's 404.
        if attack.contains("%c0") {
            assert!(
                a.status == StatusCode::BAD_REQUEST || a.status == StatusCode::NOT_FOUND,
                "{attack}: {}",
                a.status
            );
            assert!(!a.text().contains(SECRET), "{attack}");
        } else {
            assert_refused(&a, &attack);
        }
    }
}

#[tokio::test]
async fn styles_outside_the_styles_folder_are_404() {
    let tmp = tempfile::tempdir().unwrap();
    let catalog = catalog_with_styles(tmp.path());
    let config = ServerConfig::default;
    // Unlinked styles are served.
    let a = get(catalog.clone(), config(), "/styles/railways.qml").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let a = get(catalog.clone(), config(), "/styles/roads.json").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let attacks = [
        // Links out of the folder.
        "/styles/roads.qml",
        "/styles/railways",
        "/styles/railways.json",
        // Names that are not layers.
        "/styles/%2e%2e%2fsecret.qml",
        "/styles/..%2fsecret.qml",
        "/styles/%252e%252e%252fsecret.qml",
        "/styles/..%5csecret.qml",
        "/styles/..%2fsecret",
        "/styles/%2e%2e%2fsecret.json",
        "/styles/roads.qml%00",
        "/styles/%2e%2e/secret.qml",
        "/styles/../secret.qml",
    ];
    for attack in attacks {
        let a = get(catalog.clone(), config(), attack).await;
        assert_refused(&a, attack);
    }
    // The catalogue style skips the linked style, and no link offers it.
    let a = get(catalog.clone(), config(), "/styles/map.json").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.text().contains(SECRET));
    let a = get(catalog.clone(), config(), "/styles").await;
    assert!(!a.text().contains("/styles/roads.qml"), "{}", a.text());
    assert!(!a.text().contains("/styles/railways\""), "{}", a.text());
}

/// A raw HTTP/1.1 GET of `target`, exactly as written; the status and the whole answer.
fn raw_get(base: &str, target: &[u8]) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(b" HTTP/1.1\r\nHost: test.local\r\nConnection: close\r\n\r\n");
    stream.write_all(&request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[test]
fn raw_traversals_over_tcp_read_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let web = web_folder(tmp.path());
    let catalog = catalog_with_styles(tmp.path());
    let base = start_server_with(catalog, with_web(&web));
    let (status, text) = raw_get(&base, b"/map/map.js");
    assert_eq!(status, 200, "{text}");
    let secret = tmp.path().join("secret.js");
    let absolute = format!("/map/{}", secret.display());
    // Unnormalised paths the router sees as they are: no route or the handler's 404.
    let reach_the_router: Vec<&[u8]> = vec![
        b"/map/../secret.js",
        b"/map/./../secret.js",
        b"/map/vendor/maplibre-gl/../../../../secret.js",
        b"/map/%2e%2e%2fsecret.js",
        b"/map/%252e%252e%252fsecret.js",
        b"/map/..%5csecret.js",
        b"/map/..%00secret.js",
        b"/map//../secret.js",
        absolute.as_bytes(),
        b"/map/evil.js",
        b"/map/vendor/maplibre-gl/evil.js",
        b"/styles/roads.qml",
        b"/styles/../secret.qml",
        b"/styles/..%2fsecret.qml",
        b"http://test.local/map/../secret.js",
    ];
    for target in reach_the_router {
        let (status, text) = raw_get(&base, target);
        let shown = String::from_utf8_lossy(target);
        assert_eq!(status, 404, "{shown}: {text}");
        assert!(text.contains("application/problem+json"), "{shown}: {text}");
        assert!(!text.contains(SECRET), "{shown}: {text}");
    }
    // Bytes HTTP does not allow in a request target (a raw backslash, a NUL, a space) are
    // refused by the HTTP parser before any routing: 400 at most, and nothing read.
    let malformed: Vec<&[u8]> = vec![
        b"/map/..\\secret.js",
        b"/map/..\\..\\secret.js",
        b"/map/\0../secret.js",
        b"/map/.. /secret.js",
    ];
    for target in malformed {
        let (status, text) = raw_get(&base, target);
        let shown = String::from_utf8_lossy(target).escape_debug().to_string();
        assert!(status == 400 || status == 404, "{shown}: {text}");
        assert!(!text.contains(SECRET), "{shown}: {text}");
    }
}

// ---------------------------------------------------------------------------------------
// Markup in the data, and the Content-Security-Policy.

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(2)>";
const APOS: &str = "' onmouseover='alert(3)";

/// A catalogue of one layer whose title, description, property values and one feature id
/// carry markup.
fn hostile_catalog(tmp: &Path) -> Arc<Catalog> {
    let feature = |id: &str, x: f64| {
        serde_json::json!({
            "type": "Feature",
            "properties": {"code": id, "name": SCRIPT, "note": IMG, "quote": APOS},
            "geometry": {"type": "Point", "coordinates": [x, 45.13]},
        })
    };
    let collection = serde_json::json!({
        "type": "FeatureCollection",
        "features": [feature("a1", 10.02), feature(SCRIPT, 10.03)],
    });
    std::fs::write(tmp.join("hostile.geojson"), collection.to_string()).unwrap();
    let toml = format!(
        "working_crs = \"EPSG:32632\"\nstyles_dir = \"styles\"\n\n[[layer]]\nid = \"hostile\"\n\
         title = {title}\ndescription = {description}\nsystem = \"settlement\"\n\
         source = \"hostile.geojson\"\nid_field = \"code\"\n",
        title = toml_string(&format!("Title {SCRIPT}")),
        description = toml_string(&format!("Description {IMG}")),
    );
    let path = tmp.join("catalog.toml");
    std::fs::write(&path, toml).unwrap();
    let config = CatalogConfig::from_file(&path).unwrap();
    Arc::new(Catalog::load(config, &|_| {}).unwrap())
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// No markup from the data survives as markup, and it is there as escaped text.
fn assert_escaped(a: &Answer, uri: &str, expect: &[&str]) {
    assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text());
    assert!(a.content_type().starts_with("text/html"), "{uri}");
    let html = a.text();
    for raw in ["<script", "<img", "onerror=alert(2)>", "' onmouseover='"] {
        assert!(!html.contains(raw), "{uri}: {raw:?} unescaped in\n{html}");
    }
    for text in expect {
        assert!(html.contains(text), "{uri}: no {text:?} in\n{html}");
    }
    let csp = a.header(header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("script-src 'self';"), "{uri}: {csp:?}");
    assert_eq!(a.header("x-content-type-options"), "nosniff", "{uri}");
}

#[tokio::test]
async fn values_from_the_data_are_text_on_every_html_page() {
    let tmp = tempfile::tempdir().unwrap();
    let catalog = hostile_catalog(tmp.path());
    let script = "&lt;script&gt;alert(1)&lt;/script&gt;";
    let img = "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;";
    let apos = "&#39; onmouseover=&#39;alert(3)";
    let title = "Title &lt;script&gt;alert(1)&lt;/script&gt;";
    let pages: [(&str, &[&str]); 6] = [
        (
            "/collections/hostile/items?f=html",
            &[script, img, apos, title],
        ),
        (
            "/collections/hostile/items/a1?f=html",
            &[script, img, apos, title],
        ),
        // The feature whose id is markup, by its percent-encoded id.
        (
            "/collections/hostile/items/%3Cscript%3Ealert(1)%3C%2Fscript%3E?f=html",
            &[script, img, title],
        ),
        ("/collections/hostile?f=html", &[title, img]),
        ("/collections?f=html", &[title, img]),
        ("/?f=html", &[title, img]),
    ];
    for (uri, expect) in pages {
        let a = get(catalog.clone(), ServerConfig::default(), uri).await;
        assert_escaped(&a, uri, expect);
    }
    // The same values in JSON are data, as they were, and never sniffed as HTML.
    let a = get(
        catalog.clone(),
        ServerConfig::default(),
        "/collections/hostile/items/a1?f=json",
    )
    .await;
    assert_eq!(a.json()["properties"]["name"], SCRIPT);
    assert_eq!(a.header("x-content-type-options"), "nosniff");
    assert_eq!(a.header(header::CONTENT_SECURITY_POLICY), "");
}

#[tokio::test]
async fn the_map_page_gets_a_policy_that_allows_its_own_scripts_and_the_basemap() {
    let tmp = tempfile::tempdir().unwrap();
    let web = web_folder(tmp.path());
    let config = ServerConfig {
        basemap_url: Some("https://tiles.example.org/osm/{z}/{x}/{y}.png".into()),
        ..with_web(&web)
    };
    let a = get(demo_catalog(), config.clone(), "/map/").await;
    assert_eq!(a.status, StatusCode::OK);
    let csp = a.header(header::CONTENT_SECURITY_POLICY).to_string();
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    for expected in [
        "default-src 'self'",
        "script-src 'self'",
        "worker-src 'self' blob:",
        "img-src 'self' data: blob: https://tiles.example.org",
        "connect-src 'self' https://tiles.example.org",
        "object-src 'none'",
        "base-uri 'self'",
    ] {
        assert!(
            directives.contains(&expected),
            "{expected:?} not in {csp:?}"
        );
    }
    // No inline scripts and no evaluated code are allowed.
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    let scripts = directives
        .iter()
        .find(|d| d.starts_with("script-src"))
        .unwrap();
    assert!(!scripts.contains("unsafe-inline"), "{csp}");
    // The page itself has no inline script to need one.
    let page = a.text();
    for tag in page.match_indices("<script") {
        let rest = &page[tag.0..];
        let open = &rest[..rest.find('>').unwrap()];
        assert!(
            open.contains("src="),
            "an inline script in the map page: {open}"
        );
    }
    // Scripts and styles themselves carry no policy (it applies to documents), but nosniff.
    let a = get(demo_catalog(), config, "/map/map.js").await;
    assert_eq!(a.header(header::CONTENT_SECURITY_POLICY), "");
    assert_eq!(a.header("x-content-type-options"), "nosniff");
}

/// The inline `<style>` elements of a page, as the browser hashes them (their text).
fn style_elements(page: &str) -> Vec<&str> {
    page.match_indices("<style>")
        .map(|(at, tag)| {
            let text = &page[at + tag.len()..];
            &text[..text.find("</style>").unwrap()]
        })
        .collect()
}

#[tokio::test]
async fn html_answers_may_not_be_framed_and_apply_no_style_but_their_own() {
    let tmp = tempfile::tempdir().unwrap();
    let web = web_folder(tmp.path());
    let pages = [
        "/?f=html",
        "/collections?f=html",
        "/collections/projects?f=html",
        "/collections/projects/items?f=html",
        "/collections/projects/items/P012?f=html",
        "/projects/P012/report?f=html",
        "/indicators?f=html",
        "/api.html",
        "/map/",
    ];
    for uri in pages {
        let a = get(demo_catalog(), with_web(&web), uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text());
        assert!(a.content_type().starts_with("text/html"), "{uri}");
        let csp = a.header(header::CONTENT_SECURITY_POLICY).to_string();
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        // Clickjacking: no page may be framed, by another site or by the service itself.
        assert!(
            directives.contains(&"frame-ancestors 'none'"),
            "{uri}: {csp}"
        );
        assert_eq!(a.header(header::X_FRAME_OPTIONS), "DENY", "{uri}");
        // Styles: no 'unsafe-inline'; each <style> element of the page allowed by its hash,
        // computed here from the page's text; no style attribute written by the server.
        let styles = directives
            .iter()
            .find(|d| d.starts_with("style-src "))
            .unwrap_or_else(|| panic!("{uri}: no style-src in {csp}"));
        assert!(!styles.contains("unsafe"), "{uri}: {styles}");
        let page = a.text();
        for element in style_elements(&page) {
            use base64::Engine;
            use sha2::{Digest, Sha256};
            let hash = base64::engine::general_purpose::STANDARD
                .encode(Sha256::digest(element.as_bytes()));
            assert!(
                styles.contains(&format!("'sha256-{hash}'")),
                "{uri}: the page's <style> is not allowed by {styles}"
            );
        }
        assert!(!page.contains(" style="), "{uri}: a style attribute");
    }
    // The map page has no inline style at all; the API's pages one <style> each.
    let map = get(demo_catalog(), with_web(&web), "/map/").await.text();
    assert!(style_elements(&map).is_empty());
    let landing = get(demo_catalog(), with_web(&web), "/?f=html").await.text();
    assert_eq!(style_elements(&landing).len(), 1);
    // Data answers are not documents: no policy, no frame options.
    let a = get(demo_catalog(), with_web(&web), "/collections?f=json").await;
    assert_eq!(a.header(header::CONTENT_SECURITY_POLICY), "");
    assert_eq!(a.header(header::X_FRAME_OPTIONS), "");
}

// ---------------------------------------------------------------------------------------
// Internal errors.

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_internal_error_tells_the_client_an_id_and_the_log_the_detail() {
    let tmp = tempfile::tempdir().unwrap();
    let catalog = catalog_with_styles(tmp.path());
    // A style file broken after the catalogue was loaded: an error of the server, not of
    // the request.
    let broken = catalog.config.styles_dir.join("roads.json");
    std::fs::write(&broken, "{ not json").unwrap();
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // The test runs on one thread, the handler with it: the subscriber sees its events.
    let _guard = tracing::subscriber::set_default(subscriber);
    let a = get(catalog, ServerConfig::default(), "/styles/roads").await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", a.text());
    assert_eq!(a.content_type(), "application/problem+json");
    let body = a.text();
    let detail = a.json()["detail"].as_str().unwrap().to_string();
    // Nothing of the server's files or of the parser's message reaches the client.
    for leak in [
        tmp.path().to_str().unwrap(),
        "roads.json",
        "not JSON",
        "line 1",
        "key must be a string",
        "/",
    ] {
        assert!(!detail.contains(leak), "{leak:?} in {body}");
    }
    let id = detail
        .strip_prefix("internal error ")
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no id in {detail:?}"));
    assert_eq!(id.len(), 16, "{detail}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{detail}");
    // The log has the same id and the detail.
    let logged = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let line = logged
        .lines()
        .find(|l| l.contains(id))
        .unwrap_or_else(|| panic!("id {id} not logged:\n{logged}"));
    assert!(line.contains("roads.json"), "{line}");
    assert!(line.contains("ERROR"), "{line}");
}
