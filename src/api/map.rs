//! The web map at `/map/`: the planner's front end, served by territorio itself.
//!
//! The page is plain files (`index.html`, ES modules, CSS) in a web folder, `web/` in the
//! repository, and MapLibre GL JS comes from that folder's `node_modules/maplibre-gl/dist/`,
//! pinned in `web/package-lock.json` and installed with `npm ci` by `scripts/install-web`:
//! nothing is fetched from another host at run time.
//!
//! - `GET /map` redirects to `/map/` (so the page's relative links resolve under `/map/`);
//! - `GET /map/` is `index.html`; `GET /map/{file}` a file of the web folder (names of
//!   letters, digits, `_`, `-` and `.`, not starting with `.`; `package*.json` excluded),
//!   and only a regular file that, symbolic links followed, lies inside the folder;
//! - `GET /map/vendor/maplibre-gl/{file}` a file of MapLibre's `dist/` folder;
//! - `GET /map/config.json` what the page needs from the server configuration: the API root,
//!   the optional raster basemap, and which layers and fields play the parts the page uses
//!   (projects, productive areas, municipalities; the project axis, status, programme,
//!   emblematic action, progress and amounts, which the monitoring panel edits).
//!
//! Where the web folder is: `territorio serve --web-dir DIR`, or else [`default_web_dir`].
//! Without one, `/map` answers 404 with a problem saying so.

use super::http::Live;
use std::path::{Path as FsPath, PathBuf};

use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value as Json};

use super::http::files::file_within;
use super::http::negotiate::{HTML, JSON};
use super::http::oas;
use super::http::request::base_url;
use super::http::respond::{self, link, REL_MAP};
use super::http::{ApiError, AppState, Ctx, MAX_LIMIT};
use crate::ptcp::roles::{Field, NAME_FIELD, ROLES};

/// Where MapLibre's files are inside the web folder.
const MAPLIBRE_DIST: &str = "node_modules/maplibre-gl/dist";

pub fn routes() -> Router<Live> {
    Router::new()
        .route("/map", get(redirect))
        .route("/map/", get(index))
        .route("/map/config.json", get(config))
        .route("/map/vendor/maplibre-gl/{file}", get(vendor))
        .route("/map/{file}", get(file))
}

/// The web folder when none is given: `web/` beside the catalogue's folder (the layout of the
/// folders `plan/catalog.toml` and `web/`), else the `web/` folder of the source tree
/// the binary was built from; the first that holds an `index.html`.
pub fn default_web_dir(catalog: &FsPath) -> Option<PathBuf> {
    let beside = catalog
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                FsPath::new(".")
            } else {
                p
            }
        })
        .map(|p| p.join("..").join("web"));
    let source_tree = FsPath::new(env!("CARGO_MANIFEST_DIR")).join("web");
    beside
        .into_iter()
        .chain([source_tree])
        .find(|d| d.join("index.html").is_file())
}

/// What is missing from a web folder for the map to work, if anything (said at start-up).
pub fn check_web_dir(dir: &FsPath) -> Option<String> {
    if !dir.join("index.html").is_file() {
        return Some(format!("{} has no index.html", dir.display()));
    }
    if !dir.join(MAPLIBRE_DIST).join("maplibre-gl.mjs").is_file() {
        return Some(format!(
            "MapLibre GL JS is not installed in {} (run scripts/install-web)",
            dir.display()
        ));
    }
    None
}

/// Checks a raster basemap URL template: http(s), with `{z}`, `{x}` and `{y}`.
pub fn check_basemap_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "basemap URL {url:?} must start with http:// or https://"
        ));
    }
    for part in ["{z}", "{x}", "{y}"] {
        if !url.contains(part) {
            return Err(format!(
                "basemap URL {url:?} must be a tile template with {{z}}, {{x}} and {{y}}"
            ));
        }
    }
    Ok(())
}

/// The landing page's link to the map, when the map is served.
pub fn landing_links(state: &AppState, ctx: &Ctx) -> Vec<Json> {
    match &state.config().web_dir {
        Some(_) => vec![link(
            ctx.url("/map/"),
            REL_MAP,
            HTML,
            "web map of the catalogue",
        )],
        None => Vec::new(),
    }
}

/// The OpenAPI path items of the map, when it is served.
pub fn openapi_paths(state: &AppState) -> Vec<(String, Json)> {
    if state.config().web_dir.is_none() {
        return Vec::new();
    }
    let get = oas::Get {
        id: "getMap",
        summary: "The web map of the catalogue (an HTML page; /map redirects here)",
        description: None,
        tags: &[],
        parameters: Vec::new(),
        ok: oas::ok("the page", vec![oas::html()]),
        // The page reads its own query string in the browser; the server reads none.
        errors: oas::Errors::get(false)
            .without(400)
            .with(404, "the web folder has no index.html"),
    };
    vec![("/map/".into(), json!({"get": get.openapi()}))]
}

fn web_dir(state: &AppState) -> Result<&FsPath, ApiError> {
    state.config().web_dir.as_deref().ok_or_else(|| {
        ApiError::not_found(
            "the web map is not served: start territorio serve with --web-dir pointing at \
             the repository's web/ folder",
        )
    })
}

async fn redirect(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    web_dir(&state)?;
    let mut location = format!("{}/map/", base_url(state.config(), &headers));
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        location.push('?');
        location.push_str(&q);
    }
    let value = HeaderValue::from_str(&location)
        .map_err(|_| ApiError::bad_request("the query string cannot be redirected"))?;
    let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
    response.headers_mut().insert(LOCATION, value);
    Ok(response)
}

/// The media type of a file the map serves, by extension.
fn media_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1;
    Some(match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

/// A plain file name: no folders, no hidden files, a known extension.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && media_type(name).is_some()
}

/// Answers the file `name` of the folder `dir`. The file must resolve inside `dir`:
/// [`safe_name`] keeps separators and `..` out of `name`, but a symbolic link placed in the
/// folder could still point anywhere on the disk, so the target is checked too
/// ([`file_within`]); anything else is the same 404 as a missing file.
async fn send_file(dir: PathBuf, name: String, missing: String) -> Result<Response, ApiError> {
    let Some(media) = media_type(&name) else {
        return Err(ApiError::not_found(missing));
    };
    let bytes = tokio::task::spawn_blocking(move || {
        let Some(path) = file_within(&dir, &name) else {
            return Err(ApiError::not_found(missing));
        };
        match std::fs::read(&path) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::not_found(missing)),
            Err(e) => Err(ApiError::internal(format!(
                "reading {}: {e}",
                path.display()
            ))),
        }
    })
    .await??;
    let mut response = bytes.into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(media));
    Ok(response)
}

async fn index(State(state): State<AppState>) -> Result<Response, ApiError> {
    let dir = web_dir(&state)?;
    if !dir.join("index.html").is_file() {
        // The folder is the server's business: log it, do not send it.
        tracing::warn!("the web folder {} has no index.html", dir.display());
    }
    send_file(
        dir.to_path_buf(),
        "index.html".into(),
        "the web map's folder has no index.html".into(),
    )
    .await
}

async fn file(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let dir = web_dir(&state)?;
    let missing = format!("no file {name:?} in the web map");
    if !safe_name(&name) || name == "package.json" || name == "package-lock.json" {
        return Err(ApiError::not_found(missing));
    }
    send_file(dir.to_path_buf(), name, missing).await
}

async fn vendor(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let dir = web_dir(&state)?;
    let dist = dir.join(MAPLIBRE_DIST);
    let missing = if dist.is_dir() {
        format!("MapLibre GL JS has no file {name:?}")
    } else {
        "MapLibre GL JS is not installed in the web folder: run scripts/install-web \
         (npm ci in web/)"
            .to_string()
    };
    if !safe_name(&name) {
        return Err(ApiError::not_found(missing));
    }
    send_file(dist, name, missing).await
}

async fn config(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&[])?;
    web_dir(&state)?;
    let catalog = state.catalog();
    let roles = &catalog.config.roles;
    let server = state.config();
    let basemap = server.basemap_url.as_ref().map(|url| {
        json!({
            "tiles": [url],
            "attribution": server.basemap_attribution.clone().unwrap_or_default(),
        })
    });
    let field = |f: Field| f.spec().name_in(roles).0.to_string();
    let layer_roles: serde_json::Map<String, Json> = ROLES
        .iter()
        .map(|spec| (spec.name.to_string(), json!(spec.layer_in(&catalog.config))))
        .collect();
    let body = json!({
        "api": ctx.base,
        "basemap": basemap,
        "max_limit": MAX_LIMIT,
        "roles": layer_roles,
        "project_fields": {
            "title": field(Field::ProjectTitle),
            "axis": field(Field::ProjectAxis),
            "status": field(Field::ProjectStatus),
            "programme": field(Field::ProjectAqst),
            "action": field(Field::ProjectAction),
            "budget": field(Field::ProjectBudget),
            "progress": field(Field::ProjectProgress),
            "committed": field(Field::ProjectCommitted),
            "spent": field(Field::ProjectSpent),
        },
        "productive_fields": {
            "kind": field(Field::ProductiveKind),
            "name": NAME_FIELD.name_in(roles).0,
        },
    });
    Ok(respond::json(&body, JSON))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_files_with_known_types_are_served() {
        assert!(safe_name("map.js"));
        assert!(safe_name("maplibre-gl-worker.mjs"));
        assert!(safe_name("index.html"));
        assert!(!safe_name(".env.js"));
        assert!(!safe_name("../secret.js"));
        assert!(!safe_name("a/b.js"));
        assert!(!safe_name("README"));
        assert!(!safe_name("run.sh"));
        assert!(!safe_name(""));
    }

    #[test]
    fn basemap_urls_must_be_tile_templates() {
        assert!(check_basemap_url("https://tiles.example.org/{z}/{x}/{y}.png").is_ok());
        assert!(check_basemap_url("https://tiles.example.org/{z}/{x}.png").is_err());
        assert!(check_basemap_url("file:///tmp/{z}/{x}/{y}.png").is_err());
    }
}
