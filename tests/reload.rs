//! Reload without restart: the catalogue file loaded again and swapped in whole, under load,
//! with broken files kept out, with new layers, with edits kept, from the admin endpoint and
//! from SIGHUP.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value as Json};
use territorio::accounts::{Accounts, AccountsFile, HashCost};
use territorio::api::{app, App, AppState, ServerConfig};
use territorio::catalog::CatalogConfig;
use territorio::store::Catalog;

use common::http::{send, Answer};
use common::stores::{Edits, Kind};

/// A GeoJSON file of `n` points along a line near Cremona.
fn points(n: usize) -> String {
    let features: Vec<Json> = (0..n)
        .map(|i| {
            json!({"type": "Feature", "properties": {"code": format!("S{i}"), "name": format!("sito {i}")},
                   "geometry": {"type": "Point", "coordinates": [10.0 + i as f64 * 0.01, 45.1]}})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

const LAYER: &str = r#"
[[layer]]
id = "sites"
title = "Siti"
description = "Test sites"
system = "settlement"
source = "sites.geojson"
id_field = "code"
"#;

const SECOND: &str = r#"
[[layer]]
id = "more_sites"
title = "Altri siti"
description = "Added by a reload"
system = "rural"
source = "more.geojson"
id_field = "code"
"#;

/// A catalogue of one layer in a temporary folder, served in-process, with reloads on.
fn served(dir: &Path) -> (App, AppState) {
    std::fs::write(dir.join("sites.geojson"), points(2)).unwrap();
    std::fs::write(dir.join("catalog.toml"), LAYER).unwrap();
    let path = dir.join("catalog.toml");
    let catalog = Catalog::load(CatalogConfig::from_file(&path).unwrap(), &|_| {}).unwrap();
    let state = AppState::new(Arc::new(catalog), ServerConfig::default());
    state.set_catalog_file(path);
    (app(state.clone()), state)
}

async fn get(app: &App, uri: &str) -> Answer {
    let req = Request::builder()
        .uri(uri)
        .header("accept", "application/json")
        .body(Body::empty())
        .unwrap();
    send(app.clone(), req).await
}

fn matched(a: &Answer) -> u64 {
    a.json()["numberMatched"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_under_load_fail_no_request_and_mix_no_states() {
    let dir = tempfile::tempdir().unwrap();
    let (app, state) = served(dir.path());
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..8 {
        let (app, stop, answered) = (app.clone(), stop.clone(), answered.clone());
        readers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let a = get(&app, "/collections/sites/items").await;
                assert_eq!(a.status, StatusCode::OK, "{}", a.text());
                let fc = a.json();
                // One state per answer: the count and the features agree.
                let n = fc["numberMatched"].as_u64().unwrap();
                assert_eq!(fc["features"].as_array().unwrap().len() as u64, n);
                seen.push(n);
                answered.fetch_add(1, Ordering::Relaxed);
            }
            seen
        }));
    }
    for round in 0..6 {
        let n = 2 + round % 2;
        std::fs::write(dir.path().join("sites.geojson"), points(n)).unwrap();
        state.reload().await.expect("the reload succeeds");
        // Read after the reload: the new state at once.
        assert_eq!(
            matched(&get(&app, "/collections/sites/items").await),
            n as u64
        );
    }
    stop.store(true, Ordering::Relaxed);
    let mut counts = std::collections::BTreeSet::new();
    for r in readers {
        counts.extend(r.await.expect("no reader failed"));
    }
    assert!(answered.load(Ordering::Relaxed) > 0);
    assert!(counts.iter().all(|n| *n == 2 || *n == 3), "{counts:?}");
    assert_eq!(state.reload_status().reloads, 6);
}

#[tokio::test]
async fn a_broken_file_keeps_the_served_catalogue_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (app, state) = served(dir.path());
    std::fs::write(dir.path().join("sites.geojson"), "{ this is not GeoJSON").unwrap();
    let e = state.reload().await.expect_err("refused");
    assert!(e.contains("sites"), "{e}");
    assert_eq!(
        matched(&get(&app, "/collections/sites/items").await),
        2,
        "still served"
    );
    let ready = get(&app, "/health/ready").await;
    assert_eq!(ready.status, StatusCode::OK, "the old catalogue is served");
    let r = ready.json();
    assert_eq!(r["reloads"]["failed"], 1);
    assert!(r["reloads"]["lastError"]["error"]
        .as_str()
        .unwrap()
        .contains("sites"));
    // A missing file and a bad catalogue: refused the same way.
    std::fs::remove_file(dir.path().join("sites.geojson")).unwrap();
    assert!(state.reload().await.unwrap_err().contains("does not exist"));
    std::fs::write(dir.path().join("sites.geojson"), points(3)).unwrap();
    std::fs::write(
        dir.path().join("catalog.toml"),
        format!("{LAYER}colour = 1\n"),
    )
    .unwrap();
    assert!(state.reload().await.unwrap_err().contains("colour"));
    assert_eq!(matched(&get(&app, "/collections/sites/items").await), 2);
    // Fixed: the next reload serves it, and the error is gone.
    std::fs::write(dir.path().join("catalog.toml"), LAYER).unwrap();
    state.reload().await.expect("reloaded");
    assert_eq!(matched(&get(&app, "/collections/sites/items").await), 3);
    assert!(get(&app, "/health/ready").await.json()["reloads"]["lastError"].is_null());
}

/// Waits up to 10 s for `done`, polling every 50 ms; false if it never came.
async fn eventually(mut done: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..200 {
        if done().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// `--watch`: a file replaced is reloaded by itself; a broken one keeps what is served and is
/// reported once, not retried; fixed, it is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_files_reload_when_they_change() {
    let dir = tempfile::tempdir().unwrap();
    let (app, state) = served(dir.path());
    state.watch_files(std::time::Duration::from_millis(100));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(state.reload_status().reloads, 0, "no change, no reload");

    let sites = dir.path().join("sites.geojson");
    std::fs::write(&sites, points(5)).unwrap();
    assert!(
        eventually(async || matched(&get(&app, "/collections/sites/items").await) == 5).await,
        "the new file is served"
    );
    assert_eq!(
        state.reload_status().reloads,
        1,
        "one reload for one change"
    );

    std::fs::write(&sites, "{ this is not GeoJSON").unwrap();
    assert!(
        eventually(async || state.reload_status().failures == 1).await,
        "the broken file is tried"
    );
    let (_, error) = state.reload_status().last_error.expect("an error kept");
    assert!(error.contains("sites"), "{error}");
    assert_eq!(matched(&get(&app, "/collections/sites/items").await), 5);
    // Not tried again while the files stay as they are.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(state.reload_status().failures, 1);

    std::fs::write(&sites, points(3)).unwrap();
    assert!(
        eventually(async || matched(&get(&app, "/collections/sites/items").await) == 3).await,
        "the fixed file is served"
    );
    assert!(state.reload_status().last_error.is_none());
}

#[tokio::test]
async fn a_layer_added_by_a_reload_is_in_the_collections_and_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let (app, state) = served(dir.path());
    std::fs::write(dir.path().join("more.geojson"), points(4)).unwrap();
    std::fs::write(dir.path().join("catalog.toml"), format!("{LAYER}{SECOND}")).unwrap();
    state.reload().await.expect("reloaded");
    let ids: Vec<String> = get(&app, "/collections").await.json()["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["sites", "more_sites"]);
    assert_eq!(
        matched(&get(&app, "/collections/more_sites/items").await),
        4
    );
    let api = get(&app, "/api?f=json").await.json();
    assert!(api["paths"]
        .as_object()
        .unwrap()
        .contains_key("/collections/more_sites/items"));
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

on_both_stores!(edits_are_kept_across_a_reload_from_the_admin_endpoint);
async fn edits_are_kept_across_a_reload_from_the_admin_endpoint(kind: Kind) {
    let edits = Edits::fresh(kind);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/catalog.toml");
    let catalog = Catalog::load(CatalogConfig::from_file(&path).unwrap(), &|_| {}).unwrap();
    let accounts = edits.dir().join("accounts.toml");
    let mut file = AccountsFile::read_or_new(&accounts).unwrap();
    file.add_user(
        "anna",
        "a long editor password",
        &["projects".into()],
        HashCost::MINIMAL,
    )
    .unwrap();
    file.add_user("root", "a long admin password", &[], HashCost::MINIMAL)
        .unwrap();
    file.set_admin("root", true).unwrap();
    file.save().unwrap();
    let state = edits.serve(catalog, ServerConfig::default());
    state.set_accounts(Accounts::open(&accounts).unwrap());
    state.set_catalog_file(path);
    let app = app(state);
    let call = |method: Method, uri: &str, auth: Option<String>, body: Option<Json>| {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if body.is_some() {
            req = req.header("content-type", "application/merge-patch+json");
        }
        let req = req
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        send(app.clone(), req)
    };
    let editor = || Some(basic("anna", "a long editor password"));
    let patched = call(
        Method::PATCH,
        "/collections/projects/items/P001",
        editor(),
        Some(json!({"properties": {"progress_pct": 42}})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());

    // The administration: no credentials 401, an editor 403, the admin 200.
    let reload = "/admin/reload";
    assert_eq!(
        call(Method::POST, reload, None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refused = call(Method::POST, reload, editor(), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    let done = call(
        Method::POST,
        reload,
        Some(basic("root", "a long admin password")),
        None,
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert_eq!(done.json()["reloaded"], true);

    // The edit is there after the reload, with its history, and editing goes on.
    let p001 = get(&app, "/collections/projects/items/P001").await.json();
    assert_eq!(p001["properties"]["progress_pct"], 42);
    let history = get(&app, "/collections/projects/items/P001/history")
        .await
        .json();
    let last = history["changes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["user"], "anna");
    assert_eq!(last["changed"], json!(["progress_pct"]));
    let again = call(
        Method::PATCH,
        "/collections/projects/items/P001",
        editor(),
        Some(json!({"properties": {"progress_pct": 43}})),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(
        get(&app, "/collections/projects/items/P001").await.json()["properties"]["progress_pct"],
        43
    );
    let ready = get(&app, "/health/ready").await.json();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["edits"]["storeWritable"], true);
}

#[test]
fn sighup_reloads_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sites.geojson"), points(2)).unwrap();
    std::fs::write(dir.path().join("catalog.toml"), LAYER).unwrap();
    let mut cmd = std::process::Command::new(common::process::binary());
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--catalog"])
        .arg(dir.path().join("catalog.toml"));
    let server = common::process::Server::start(cmd).expect("starts");
    let count = || server.get_json("/collections/sites/items")["numberMatched"].as_u64();
    assert_eq!(count(), Some(2));
    std::fs::write(dir.path().join("sites.geojson"), points(5)).unwrap();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while count() != Some(5) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(count(), Some(5), "{}", server.log());
}

on_both_stores!(a_layer_made_editable_by_a_reload_is_imported_and_edited);
async fn a_layer_made_editable_by_a_reload_is_imported_and_edited(kind: Kind) {
    let edits = Edits::fresh(kind);
    let dir = edits.dir();
    std::fs::write(dir.join("sites.geojson"), points(3)).unwrap();
    std::fs::write(dir.join("catalog.toml"), LAYER).unwrap();
    let path = dir.join("catalog.toml");
    let catalog = Catalog::load(CatalogConfig::from_file(&path).unwrap(), &|_| {}).unwrap();
    let accounts = dir.join("accounts.toml");
    let mut file = AccountsFile::read_or_new(&accounts).unwrap();
    file.add_user(
        "anna",
        "a long editor password",
        &["sites".into()],
        HashCost::MINIMAL,
    )
    .unwrap();
    file.add_user("root", "a long admin password", &[], HashCost::MINIMAL)
        .unwrap();
    file.set_admin("root", true).unwrap();
    file.save().unwrap();
    let state = edits.serve(catalog, ServerConfig::default());
    state.set_accounts(Accounts::open(&accounts).unwrap());
    state.set_catalog_file(path.clone());
    let app = app(state);
    let call = |method: Method, uri: &str, auth: (&str, &str), body: Option<Json>| {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", basic(auth.0, auth.1));
        if body.is_some() {
            req = req.header("content-type", "application/geo+json");
        }
        let req = req
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        send(app.clone(), req)
    };
    let anna = ("anna", "a long editor password");
    let new_site = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.05, 45.12]},
                          "properties": {"name": "sito nuovo"}});
    // Read-only at first.
    let refused = call(
        Method::POST,
        "/collections/sites/items",
        anna,
        Some(new_site.clone()),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        refused.text()
    );

    // The catalogue now makes it editable, with new ids S3, S4...: reloaded, it is imported.
    std::fs::write(&path, format!("{LAYER}\n[layer.edit]\nid_prefix = \"S\"\n")).unwrap();
    let done = call(
        Method::POST,
        "/admin/reload",
        ("root", "a long admin password"),
        None,
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    let created = call(
        Method::POST,
        "/collections/sites/items",
        anna,
        Some(new_site.clone()),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["id"], "S3");
    assert_eq!(
        matched(&get(&app, "/collections/sites/items").await),
        4,
        "the three of the file and the new one"
    );
    // Its history: the import of the file's features, then the creation.
    let h = get(&app, "/collections/sites/items/S0/history").await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text());
    assert_eq!(h.json()["changes"][0]["operation"], "import");
    let h = get(&app, "/collections/sites/items/S3/history")
        .await
        .json();
    assert_eq!(h["changes"][0]["operation"], "create");
    assert_eq!(h["changes"][0]["user"], "anna");
    if kind == Kind::Postgres {
        // Kept in the database, as a DBA reads it.
        assert_eq!(edits.sql("SELECT id FROM territorio.layers"), "sites");
        assert_eq!(
            edits.sql(
                "SELECT operation, count(*) FROM territorio.changes WHERE layer = 'sites' \
                 GROUP BY operation ORDER BY operation"
            ),
            "create|1\nimport|3"
        );
    }
}
