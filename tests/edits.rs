//! Edits through OGC API - Features Part 4, over the service (tower `oneshot`), on the demo
//! catalogue with a fresh store and accounts in a temporary folder. Every test runs twice, with
//! the same body: on the embedded SQLite store and on the PostgreSQL/PostGIS store (a fresh
//! database of a throwaway cluster), see `tests/common/stores.rs`.
//!
//! The first test replays the requests QGIS 3.44 sends when a user edits the projects layer
//! (recorded from a real QGIS, see `tests/qgis/edit.py`); the others cover accounts,
//! conditional writes, the rules of the projects' fields, bad input of every kind, and that an
//! edit is seen at once by every reader. Expected coordinates come from PROJ's reference
//! values in the project's STACK notes, not from the service.

mod common;

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value as Json};
use territorio::accounts::{Accounts, AccountsFile, HashCost};
use territorio::api::{app, App, ServerConfig};
use territorio::catalog::CatalogConfig;
use territorio::store::Catalog;

use common::http::{send, Answer};
use common::stores::{Edits, Kind};

const EDITOR: (&str, &str) = ("anna", "a long editor password");
const READER: (&str, &str) = ("bruno", "a long reader password");
const EPSG_3003: &str = "http://www.opengis.net/def/crs/EPSG/0/3003";
const EPSG_4326: &str = "http://www.opengis.net/def/crs/EPSG/0/4326";
const EPSG_32632: &str = "http://www.opengis.net/def/crs/EPSG/0/32632";

struct Server {
    app: App,
    token: String,
    /// The store, when the server owns it.
    _edits: Option<Edits>,
}

/// The demo catalogue served with edits on in a fresh store of `kind`: `anna` may edit the
/// projects, `bruno` nothing.
fn server(kind: Kind) -> Server {
    let edits = Edits::fresh(kind);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/catalog.toml");
    let catalog = Catalog::load(CatalogConfig::from_file(&path).unwrap(), &|_| {}).unwrap();
    let accounts = edits.dir().join("accounts.toml");
    let mut file = AccountsFile::read_or_new(&accounts).unwrap();
    file.add_user(EDITOR.0, EDITOR.1, &["projects".into()], HashCost::MINIMAL)
        .unwrap();
    file.add_user(READER.0, READER.1, &[], HashCost::MINIMAL)
        .unwrap();
    let token = file
        .issue_token(EDITOR.0, "script")
        .unwrap()
        .reveal()
        .to_string();
    file.save().unwrap();
    let state = edits.serve(catalog, ServerConfig::default());
    state.set_accounts(Accounts::open(&accounts).unwrap());
    Server {
        app: app(state),
        token,
        _edits: Some(edits),
    }
}

fn basic((user, password): (&str, &str)) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

impl Server {
    async fn call(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<Json>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some(b) => Body::from(b.to_string()),
            None => Body::empty(),
        };
        send(self.app.clone(), req.body(body).unwrap()).await
    }

    /// A write by `anna` with HTTP Basic, as QGIS sends it.
    async fn edit(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<Json>,
    ) -> Answer {
        let auth = basic(EDITOR);
        let mut all = vec![("authorization", auth.as_str())];
        all.extend_from_slice(headers);
        self.call(method, uri, &all, body).await
    }

    async fn get(&self, uri: &str) -> Answer {
        self.call(
            Method::GET,
            uri,
            &[("accept", "application/geo+json")],
            None,
        )
        .await
    }
}

fn coords(feature: &Json) -> (f64, f64) {
    let c = &feature["geometry"]["coordinates"];
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

fn close(a: (f64, f64), b: (f64, f64), tolerance: f64) -> bool {
    (a.0 - b.0).abs() <= tolerance && (a.1 - b.1).abs() <= tolerance
}

/// A point project of the demo (the moves below need a point).
async fn a_point_project(s: &Server) -> String {
    let all = s.get("/collections/projects/items?limit=1000").await.json();
    all["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["geometry"]["type"] == "Point")
        .and_then(|f| f["id"].as_str())
        .expect("the demo has point projects")
        .to_string()
}

on_both_stores!(the_requests_qgis_sends_when_editing_work_in_order);
async fn the_requests_qgis_sends_when_editing_work_in_order(kind: Kind) {
    let s = server(kind);
    let point = a_point_project(&s).await;
    // QGIS turns editing on from Allow.
    let items = s
        .edit(Method::OPTIONS, "/collections/projects/items", &[], None)
        .await;
    assert_eq!(items.status, StatusCode::NO_CONTENT, "{}", items.text());
    assert!(
        items.header("allow").contains("POST"),
        "{}",
        items.header("allow")
    );
    let item = s
        .edit(
            Method::OPTIONS,
            &format!("/collections/projects/items/{point}"),
            &[],
            None,
        )
        .await;
    for m in ["PUT", "PATCH", "DELETE"] {
        assert!(item.header("allow").contains(m), "{}", item.header("allow"));
    }

    // PATCH of properties only (merge patch).
    let patched = s
        .edit(
            Method::PATCH,
            &format!("/collections/projects/items/{point}"),
            &[("content-type", "application/merge-patch+json")],
            Some(json!({"properties": {"progress_pct": 37, "status": "in_progress"}})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    let before_move = s
        .get(&format!("/collections/projects/items/{point}"))
        .await
        .json();
    assert_eq!(before_move["properties"]["progress_pct"], 37);
    assert_eq!(before_move["properties"]["status"], "in_progress");

    // POST in the layer's CRS (a bare Content-Crs URI), with null id and derived field.
    let created = s
        .edit(
            Method::POST,
            "/collections/projects/items",
            &[
                ("content-type", "application/geo+json"),
                ("content-crs", EPSG_32632),
            ],
            Some(json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [514965.0, 5034586.0]},
                "properties": {
                    "id": null, "axis_name": null, "title": "Nuovo progetto",
                    "axis": 5, "emblematic_action": null, "aqst_programme": "none",
                    "status": "proposed", "progress_pct": 0, "budget_eur": 350000.0,
                    "committed_eur": 0.0, "spent_eur": 0.0,
                    "lead_body": "Comune di Crema", "municipality": "Crema",
                    "start_date": "2026-03-01", "end_date": "2027-06-30"
                }
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let location = created.header("location").to_string();
    assert!(
        location.ends_with("/collections/projects/items/P151"),
        "{location}"
    );
    assert!(created.header("etag").starts_with('"'), "a strong tag");
    let new = s.get("/collections/projects/items/P151").await;
    assert_eq!(new.status, StatusCode::OK);
    let new = new.json();
    assert_eq!(new["properties"]["axis_name"], "Infrastrutture e mobilità");
    assert_eq!(new["properties"]["id"], "P151");
    // STACK reference: EPSG:32632 (514965, 5034586) is lon 9.1914278, lat 45.4646405.
    assert!(
        close(coords(&new), (9.1914278, 45.4646405), 2e-7),
        "{:?}",
        coords(&new)
    );

    // PATCH of the geometry only, in EPSG:3003 (easting first).
    let moved = s
        .edit(
            Method::PATCH,
            &format!("/collections/projects/items/{point}"),
            &[
                ("content-type", "application/merge-patch+json"),
                ("content-crs", EPSG_3003),
            ],
            Some(json!({"geometry": {"type": "Point", "coordinates": [1514980.0, 5034600.0]}})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    let after = s
        .get(&format!("/collections/projects/items/{point}"))
        .await
        .json();
    // STACK reference: EPSG:3003 (1514980, 5034600) is lon 9.1912614, lat 45.4645866.
    assert!(
        close(coords(&after), (9.1912614, 45.4645866), 2e-7),
        "{:?}",
        coords(&after)
    );
    assert_eq!(
        after["properties"], before_move["properties"],
        "only the geometry moved"
    );

    // EPSG:4326 in angle brackets: latitude first.
    let moved = s
        .edit(
            Method::PATCH,
            &format!("/collections/projects/items/{point}"),
            &[
                ("content-type", "application/merge-patch+json"),
                ("content-crs", &format!("<{EPSG_4326}>")),
            ],
            Some(json!({"geometry": {"type": "Point", "coordinates": [45.4646405, 9.1914278]}})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    let in_utm = s
        .get(&format!(
            "/collections/projects/items/{point}?crs={EPSG_32632}"
        ))
        .await
        .json();
    assert!(
        close(coords(&in_utm), (514965.0, 5034586.0), 0.05),
        "{:?}",
        coords(&in_utm)
    );

    // PUT replaces; DELETE removes.
    let mut whole = new.clone();
    whole["properties"]["status"] = json!("design");
    whole["properties"]["progress_pct"] = json!(5);
    let put = s
        .edit(
            Method::PUT,
            "/collections/projects/items/P151",
            &[("content-type", "application/geo+json")],
            Some(json!({"type": "Feature", "id": "P151", "geometry": new["geometry"], "properties": whole["properties"]})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    assert_eq!(
        s.get("/collections/projects/items/P151").await.json()["properties"]["status"],
        "design"
    );
    let deleted = s
        .edit(
            Method::DELETE,
            "/collections/projects/items/P151",
            &[],
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text());
    assert_eq!(
        s.get("/collections/projects/items/P151").await.status,
        StatusCode::NOT_FOUND
    );

    // The history of the new project: create, replace, delete, by anna.
    let history = s
        .call(
            Method::GET,
            "/collections/projects/items/P151/history?f=json",
            &[],
            None,
        )
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text());
    let h = history.json();
    let ops: Vec<&str> = h["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["create", "replace", "delete"]);
    assert!(h["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["user"] == EDITOR.0));
    assert_eq!(
        h["changes"][1]["changed"],
        json!(["status", "progress_pct"])
    );
}

on_both_stores!(writes_need_an_account_with_the_right);
async fn writes_need_an_account_with_the_right(kind: Kind) {
    let s = server(kind);
    let body = json!({"properties": {"progress_pct": 50}});
    let uri = "/collections/projects/items/P001";
    let patch = |auth: Option<String>| {
        let body = body.clone();
        let s = &s;
        async move {
            let mut headers = vec![("content-type", "application/merge-patch+json".to_string())];
            if let Some(a) = auth {
                headers.push(("authorization", a));
            }
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            s.call(Method::PATCH, uri, &h, Some(body)).await
        }
    };
    let none = patch(None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert!(
        none.header("www-authenticate").starts_with("Basic"),
        "{:?}",
        none.headers
    );
    let wrong = patch(Some(basic((EDITOR.0, "not the password")))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(!wrong.text().contains("not the password"));
    let reader = patch(Some(basic(READER))).await;
    assert_eq!(reader.status, StatusCode::FORBIDDEN, "{}", reader.text());
    assert!(reader
        .text()
        .contains("bruno may not edit collection projects"));
    let token = patch(Some(format!("Bearer {}", s.token))).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    assert_eq!(s.get(uri).await.json()["properties"]["progress_pct"], 50);
    // Reading stays open, and OPTIONS without credentials lists no write.
    let open = s
        .call(Method::OPTIONS, "/collections/projects/items", &[], None)
        .await;
    assert_eq!(open.header("allow"), "GET, HEAD, OPTIONS");
    // A read-only layer lists none even to an editor, and refuses writes with 405.
    let ro = s
        .edit(
            Method::OPTIONS,
            "/collections/municipalities/items",
            &[],
            None,
        )
        .await;
    assert_eq!(ro.header("allow"), "GET, HEAD, OPTIONS");
    let refused = s
        .edit(
            Method::POST,
            "/collections/municipalities/items",
            &[("content-type", "application/geo+json")],
            Some(json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.0, 45.1]}, "properties": {}})),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        refused.text()
    );
    assert_eq!(refused.header("allow"), "GET, HEAD, OPTIONS");
}

on_both_stores!(if_match_protects_against_lost_updates);
async fn if_match_protects_against_lost_updates(kind: Kind) {
    let s = server(kind);
    let uri = "/collections/projects/items/P002";
    let first = s.get(uri).await;
    let tag = first.header("etag").to_string();
    assert!(tag.starts_with('"') && !tag.starts_with("W/"), "{tag}");
    let patch = |tag: String, pct: i64| {
        let s = &s;
        async move {
            s.edit(
                Method::PATCH,
                uri,
                &[
                    ("content-type", "application/merge-patch+json"),
                    ("if-match", &tag),
                ],
                Some(json!({"properties": {"progress_pct": pct}})),
            )
            .await
        }
    };
    let ok = patch(tag.clone(), 61).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let new_tag = ok.header("etag").to_string();
    assert_ne!(new_tag, tag);
    // Someone else's write with the old tag: 412, the current tag, nothing changed.
    let stale = patch(tag.clone(), 62).await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.text()
    );
    assert_eq!(stale.header("etag"), new_tag);
    assert_eq!(s.get(uri).await.json()["properties"]["progress_pct"], 61);
    // A GET with the current tag is 304.
    let again = s
        .call(
            Method::GET,
            uri,
            &[
                ("accept", "application/geo+json"),
                ("if-none-match", &new_tag),
            ],
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

on_both_stores!(values_outside_the_rules_are_refused_naming_field_and_rule);
async fn values_outside_the_rules_are_refused_naming_field_and_rule(kind: Kind) {
    let s = server(kind);
    let uri = "/collections/projects/items/P003";
    let before = s.get(uri).await;
    let answer = s
        .edit(
            Method::PATCH,
            uri,
            &[("content-type", "application/merge-patch+json")],
            Some(json!({"properties": {
                "status": "finished", "axis": 9, "progress_pct": 101, "spent_eur": -1.0,
                "start_date": "2027-01-01", "end_date": "2026-01-01", "colour": "red",
                "axis_name": "Altro"
            }})),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text()
    );
    assert_eq!(answer.content_type(), "application/problem+json");
    let problem = answer.json();
    let named: Vec<&str> = problem["invalid-params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for field in [
        "status",
        "axis",
        "progress_pct",
        "spent_eur",
        "end_date",
        "colour",
        "axis_name",
    ] {
        assert!(named.contains(&field), "{field} in {named:?}");
    }
    let after = s.get(uri).await;
    assert_eq!(after.body, before.body, "nothing changed");
    assert_eq!(after.header("etag"), before.header("etag"));
}

on_both_stores!(bad_bodies_get_the_right_status_and_change_nothing);
async fn bad_bodies_get_the_right_status_and_change_nothing(kind: Kind) {
    let s = server(kind);
    let uri = "/collections/projects/items/P004";
    let before = s.get(uri).await;
    let raw = |content_type: &str, body: &str, crs: Option<&str>| {
        let mut req = Request::builder()
            .method(Method::PATCH)
            .uri(uri)
            .header("authorization", basic(EDITOR))
            .header("content-type", content_type);
        if let Some(c) = crs {
            req = req.header("content-crs", c);
        }
        req.body(Body::from(body.to_string())).unwrap()
    };
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            raw("application/merge-patch+json", "{", None),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            raw("text/plain", "{}", None),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type",
        ),
        (
            raw(
                "application/merge-patch+json",
                r#"{"geometry": {"type": "Point", "coordinates": [200.0, 45.0]}}"#,
                None,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "geometry",
        ),
        (
            raw(
                "application/merge-patch+json",
                r#"{"geometry": {"type": "Point", "coordinates": [10.0]}}"#,
                None,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "geometry",
        ),
        (
            raw(
                "application/merge-patch+json",
                r#"{"geometry": null}"#,
                None,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "cannot be removed",
        ),
        (
            raw("application/merge-patch+json", r#"{"id": "P999"}"#, None),
            StatusCode::UNPROCESSABLE_ENTITY,
            "cannot be changed",
        ),
        (
            raw(
                "application/merge-patch+json",
                r#"{"properties": {"progress_pct": 5}}"#,
                Some("EPSG:999999"),
            ),
            StatusCode::BAD_REQUEST,
            "Content-Crs",
        ),
        (
            raw(
                "application/merge-patch+json",
                r#"{"properties": [1]}"#,
                None,
            ),
            StatusCode::BAD_REQUEST,
            "properties must be an object",
        ),
    ];
    for (req, status, words) in cases {
        let answer = send(s.app.clone(), req).await;
        assert_eq!(answer.status, status, "{}", answer.text());
        assert!(answer.text().contains(words), "{words}: {}", answer.text());
        assert_eq!(answer.content_type(), "application/problem+json");
    }
    let missing = s
        .edit(
            Method::DELETE,
            "/collections/projects/items/P999",
            &[],
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let too_big = "x".repeat(ServerConfig::default().max_body_bytes + 10);
    let answer = send(
        s.app.clone(),
        raw("application/merge-patch+json", &too_big, None),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.text()
    );
    let after = s.get(uri).await;
    assert_eq!(after.body, before.body, "nothing changed");
}

on_both_stores!(an_edit_is_seen_at_once_by_counts_filters_reports_and_caches);
async fn an_edit_is_seen_at_once_by_counts_filters_reports_and_caches(kind: Kind) {
    let s = server(kind);
    let count = |fc: &Json| fc["numberMatched"].as_u64().unwrap();
    let all_before = count(&s.get("/collections/projects/items?limit=1").await.json());
    let in_box = "/collections/projects/items?bbox=9.60,45.30,9.62,45.32";
    assert_eq!(
        count(&s.get(in_box).await.json()),
        0,
        "an empty corner of the province"
    );
    let created = s
        .edit(
            Method::POST,
            "/collections/projects/items",
            &[("content-type", "application/geo+json")],
            Some(json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [9.61, 45.31]},
                "properties": {"title": "Progetto di prova", "axis": 1, "status": "funded",
                               "progress_pct": 12, "aqst_programme": "none"}
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(
        count(&s.get("/collections/projects/items?limit=1").await.json()),
        all_before + 1
    );
    assert_eq!(count(&s.get(in_box).await.json()), 1);
    let filtered = s
        .get("/collections/projects/items?filter=title%3D%27Progetto%20di%20prova%27")
        .await
        .json();
    assert_eq!(count(&filtered), 1);
    let report = s
        .call(Method::GET, "/projects/P151/report?f=json", &[], None)
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text());
    // Editable collections are revalidated by clients; the others may be kept a minute.
    let projects = s.get("/collections/projects/items?limit=1").await;
    assert_eq!(projects.header("cache-control"), "no-cache");
    let zones = s.get("/collections/municipalities/items?limit=1").await;
    assert_eq!(zones.header("cache-control"), "public, max-age=60");
}

on_both_stores!(the_schema_says_what_clients_may_write);
async fn the_schema_says_what_clients_may_write(kind: Kind) {
    let s = server(kind);
    let conformance = s
        .call(Method::GET, "/conformance?f=json", &[], None)
        .await
        .json();
    let classes: Vec<&str> = conformance["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for class in [
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
        "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
    ] {
        assert!(classes.contains(&class), "{class}");
    }
    let schema = s
        .call(
            Method::GET,
            "/collections/projects/schema",
            &[("accept", "application/schema+json")],
            None,
        )
        .await
        .json();
    let p = &schema["properties"];
    assert_eq!(p["id"]["readOnly"], true);
    assert_eq!(p["axis_name"]["readOnly"], true);
    assert_eq!(p["progress_pct"]["maximum"], 100.0);
    assert_eq!(
        p["status"]["enum"],
        json!(["proposed", "design", "funded", "in_progress", "completed"])
    );
    assert_eq!(p["status"]["title"], "Stato di attuazione");
}

on_both_stores!(the_change_log_is_a_collection_selected_by_time);
async fn the_change_log_is_a_collection_selected_by_time(kind: Kind) {
    let s = server(kind);
    // The demo's history file, read here: its changes of the first monitoring round.
    let history = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/data/projects_history.jsonl"),
    )
    .unwrap();
    let lines: Vec<Json> = history
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first_day = lines[0]["at"].as_str().unwrap()[..10].to_string();
    let on_first_day = lines
        .iter()
        .filter(|l| l["at"].as_str().unwrap().starts_with(&first_day))
        .count() as u64;
    let count = |fc: &Json| fc["numberMatched"].as_u64().unwrap();
    let log = "/collections/projects_changes/items";
    assert_eq!(
        count(&s.get(&format!("{log}?limit=1")).await.json()),
        lines.len() as u64
    );
    let round = s
        .get(&format!("{log}?datetime={first_day}&limit=1000"))
        .await
        .json();
    assert_eq!(count(&round), on_first_day);
    assert!(round["features"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["properties"]["operation"] == "create"));

    // An edit now appears in the log within a second or so.
    let patched = s
        .edit(
            Method::PATCH,
            "/collections/projects/items/P005",
            &[("content-type", "application/merge-patch+json")],
            Some(json!({"properties": {"progress_pct": 77}})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    let recent = format!("{log}?filter=user%3D%27{}%27", EDITOR.0);
    let mut found = Json::Null;
    for _ in 0..60 {
        found = s.get(&recent).await.json();
        if count(&found) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(count(&found), 1, "the edit is in the log");
    let entry = &found["features"][0]["properties"];
    assert_eq!(entry["feature"], "P005");
    assert_eq!(entry["operation"], "update");
    assert_eq!(entry["changed"], "progress_pct");
    assert_eq!(entry["progress_pct"], 77);
}

on_both_stores!(text_and_numbers_are_kept_exactly_as_sent);
async fn text_and_numbers_are_kept_exactly_as_sent(kind: Kind) {
    let s = server(kind);
    let uri = "/collections/projects/items/P006";
    // Texts a store could change: quotes and backslashes (JSON escapes), characters outside
    // the BMP, a right-to-left override, line breaks, a tab and other control characters, a
    // long text, an empty one.
    let long = "Riqualificazione ".repeat(2000);
    let texts = [
        "Ponte \"sul\" Po \\ lato sud",
        "Ciclovia 🚲 del Serio — 𝔸",
        "\u{202e}oiggab\u{202c} e fine",
        "riga uno\nriga due\r\n\tfine, \u{7} e \u{1f}",
        long.as_str(),
        "",
    ];
    // Numbers a store could change: a cent, the largest integer a double holds exactly, a
    // tiny value and one with every significant digit of a double.
    let budgets = [
        0.01,
        9_007_199_254_740_992.0,
        1e-300,
        123_456.789_012_345_67,
    ];
    for (i, title) in texts.iter().enumerate() {
        let budget = budgets[i % budgets.len()];
        let patched = s
            .edit(
                Method::PATCH,
                uri,
                &[("content-type", "application/merge-patch+json")],
                Some(json!({"properties": {"title": title, "budget_eur": budget}})),
            )
            .await;
        assert_eq!(
            patched.status,
            StatusCode::OK,
            "{title:?}: {}",
            patched.text()
        );
        assert_eq!(patched.json()["properties"]["title"], *title);
        let read = s.get(uri).await.json();
        assert_eq!(read["properties"]["title"], *title, "read back");
        assert_eq!(read["properties"]["budget_eur"].as_f64(), Some(budget));
        let history = s
            .call(
                Method::GET,
                &format!("{uri}/history?f=json&limit=1000"),
                &[],
                None,
            )
            .await;
        assert_eq!(history.status, StatusCode::OK, "{}", history.text());
        let h = history.json();
        let last = h["changes"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            last["after"]["properties"]["title"], *title,
            "in the history"
        );
        assert_eq!(
            last["after"]["properties"]["budget_eur"].as_f64(),
            Some(budget),
            "in the history"
        );
    }
    // A NUL character is no text a client means to store: refused, naming the field, on
    // either store (PostgreSQL's jsonb cannot hold it).
    let before = s.get(uri).await;
    let nul = s
        .edit(
            Method::PATCH,
            uri,
            &[("content-type", "application/merge-patch+json")],
            Some(json!({"properties": {"title": "a\u{0}b"}})),
        )
        .await;
    assert_eq!(
        nul.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        nul.text()
    );
    assert!(nul.text().contains("title"), "{}", nul.text());
    let after = s.get(uri).await;
    assert_eq!(after.body, before.body, "nothing changed");
}

/// A catalogue of one editable layer whose ids are integers (`id_field` of integers, no
/// `id_prefix`), with a field of every type, in `dir`.
fn wells_catalog(dir: &Path) -> Catalog {
    let features = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.02, 45.13]},
         "properties": {"n": 10, "name": "Pozzo Po", "depth_m": 42.5, "checked": true,
                        "surveyed": "2024-05-02"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [9.69, 45.36]},
         "properties": {"n": 20, "name": "Pozzo Serio", "depth_m": 18.0, "checked": false,
                        "surveyed": "2023-11-30"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.42, 44.99]},
         "properties": {"n": 7, "name": "Pozzo Oglio", "depth_m": null, "checked": null,
                        "surveyed": null}}
    ]});
    std::fs::write(dir.join("wells.geojson"), features.to_string()).unwrap();
    std::fs::write(
        dir.join("catalog.toml"),
        r#"
[[layer]]
id = "wells"
title = "Pozzi"
description = "Wells with integer ids"
system = "environmental"
source = "wells.geojson"
id_field = "n"

[layer.edit]
"#,
    )
    .unwrap();
    Catalog::load(
        CatalogConfig::from_file(&dir.join("catalog.toml")).unwrap(),
        &|_| {},
    )
    .unwrap()
}

on_both_stores!(a_layer_with_integer_ids_gets_the_next_integer_and_keeps_its_history);
async fn a_layer_with_integer_ids_gets_the_next_integer_and_keeps_its_history(kind: Kind) {
    let edits = Edits::fresh(kind);
    let accounts = edits.dir().join("accounts.toml");
    let mut file = AccountsFile::read_or_new(&accounts).unwrap();
    file.add_user(EDITOR.0, EDITOR.1, &["wells".into()], HashCost::MINIMAL)
        .unwrap();
    file.save().unwrap();
    let serve = || {
        let state = edits.serve(wells_catalog(edits.dir()), ServerConfig::default());
        state.set_accounts(Accounts::open(&accounts).unwrap());
        Server {
            app: app(state),
            token: String::new(),
            _edits: None,
        }
    };
    let s = serve();
    let items = "/collections/wells/items";
    let fc = s.get(items).await.json();
    assert_eq!(fc["numberMatched"], 3);
    // The highest id is 20: a new well is 21, an integer.
    let created = s
        .edit(
            Method::POST,
            items,
            &[("content-type", "application/geo+json")],
            Some(
                json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [9.8, 45.2]},
                        "properties": {"name": "Pozzo nuovo", "depth_m": 7.25, "checked": true,
                                       "surveyed": "2026-12-01"}}),
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert!(
        created
            .header("location")
            .ends_with("/collections/wells/items/21"),
        "{}",
        created.header("location")
    );
    let new = s.get(&format!("{items}/21")).await.json();
    assert_eq!(new["id"], 21, "an integer id: {new}");
    assert_eq!(new["properties"]["n"], 21);
    assert_eq!(new["properties"]["depth_m"], 7.25);
    assert_eq!(new["properties"]["checked"], true);
    assert_eq!(new["properties"]["surveyed"], "2026-12-01");
    // Deleted, its id is not given again; its history is kept under the integer id.
    let deleted = s
        .edit(Method::DELETE, &format!("{items}/21"), &[], None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text());
    let patched = s
        .edit(
            Method::PATCH,
            &format!("{items}/7"),
            &[("content-type", "application/merge-patch+json")],
            Some(json!({"properties": {"checked": false, "depth_m": 3.5}})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    // Restarted on the same store: the next new id is 22.
    let s = serve();
    let again = s
        .edit(
            Method::POST,
            items,
            &[("content-type", "application/geo+json")],
            Some(
                json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [9.9, 45.2]},
                        "properties": {"name": "Pozzo secondo"}}),
            ),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    assert_eq!(again.json()["id"], 22);
    let seven = s.get(&format!("{items}/7")).await.json();
    assert_eq!(seven["properties"]["checked"], false);
    assert_eq!(seven["properties"]["depth_m"], 3.5);
    let history = s
        .call(
            Method::GET,
            &format!("{items}/21/history?f=json"),
            &[],
            None,
        )
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text());
    let ops: Vec<String> = history.json()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operation"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ops, ["create", "delete"]);
    let h7 = s
        .call(Method::GET, &format!("{items}/7/history?f=json"), &[], None)
        .await
        .json();
    assert_eq!(h7["numberMatched"], 2, "the import and the edit: {h7}");
    assert_eq!(h7["changes"][1]["changed"], json!(["depth_m", "checked"]));
    // The change log lists the three writes (and the imports), by anna.
    let log = s
        .get("/collections/wells_changes/items?filter=user%3D%27anna%27")
        .await;
    let mut found = log.json();
    for _ in 0..60 {
        if found["numberMatched"] == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        found = s
            .get("/collections/wells_changes/items?filter=user%3D%27anna%27")
            .await
            .json();
    }
    assert_eq!(found["numberMatched"], 4, "{found}");
}

on_both_stores!(edits_sent_at_once_are_each_answered_as_if_alone);
/// Writes sent at once, which the editor may commit together (one transaction for the edits
/// waiting): each is answered as if alone, a refused one (a broken rule, a stale `If-Match`, a
/// NUL) refuses nothing else, and the state is every accepted write and nothing more.
async fn edits_sent_at_once_are_each_answered_as_if_alone(kind: Kind) {
    let s = Arc::new(server(kind));
    let other_tag = s
        .get("/collections/projects/items/P001")
        .await
        .header("etag")
        .to_string();
    let before: Vec<Json> = {
        let mut v = Vec::new();
        for i in 0..25 {
            v.push(
                s.get(&format!("/collections/projects/items/P{:03}", 10 + i))
                    .await
                    .json(),
            );
        }
        v
    };
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..25usize {
        let s = s.clone();
        let other_tag = other_tag.clone();
        tasks.spawn(async move {
            let id = format!("P{:03}", 10 + i);
            let uri = format!("/collections/projects/items/{id}");
            let merge = ("content-type", "application/merge-patch+json");
            let answer = match i % 6 {
                0 => {
                    s.edit(
                        Method::PATCH,
                        &uri,
                        &[merge],
                        Some(json!({"properties": {"progress_pct": 10 + i}})),
                    )
                    .await
                }
                1 => {
                    s.edit(
                        Method::PATCH,
                        &uri,
                        &[merge],
                        Some(json!({"properties": {"progress_pct": 101 + i}})),
                    )
                    .await
                }
                2 => {
                    s.edit(
                        Method::PATCH,
                        &uri,
                        &[merge, ("if-match", other_tag.as_str())],
                        Some(json!({"properties": {"progress_pct": 1}})),
                    )
                    .await
                }
                3 => s.edit(Method::DELETE, &uri, &[], None).await,
                4 => {
                    s.edit(
                        Method::POST,
                        "/collections/projects/items",
                        &[("content-type", "application/geo+json")],
                        Some(json!({
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [9.9, 45.2]},
                            "properties": {"title": format!("Nuovo {i}"), "axis": 1,
                                           "status": "proposed", "progress_pct": 0,
                                           "aqst_programme": "none"}
                        })),
                    )
                    .await
                }
                _ => {
                    s.edit(
                        Method::PATCH,
                        &uri,
                        &[merge],
                        Some(json!({"properties": {"title": "con \u{0} dentro"}})),
                    )
                    .await
                }
            };
            (i, answer)
        });
    }
    let mut created = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (i, answer) = done.unwrap();
        let expected = [
            StatusCode::OK,
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::PRECONDITION_FAILED,
            StatusCode::NO_CONTENT,
            StatusCode::CREATED,
            StatusCode::UNPROCESSABLE_ENTITY,
        ][i % 6];
        assert_eq!(answer.status, expected, "write {i}: {}", answer.text());
        if i % 6 == 4 {
            let body = answer.json();
            assert_eq!(body["properties"]["title"], format!("Nuovo {i}"));
            created.push(body["id"].as_str().unwrap().to_string());
        }
    }
    // New ids P151, P152... each given once, whatever the order the writes were taken in.
    created.sort();
    assert_eq!(created, ["P151", "P152", "P153", "P154"]);
    for (i, was) in before.iter().enumerate() {
        let id = format!("P{:03}", 10 + i);
        let now = s.get(&format!("/collections/projects/items/{id}")).await;
        match i % 6 {
            0 => assert_eq!(now.json()["properties"]["progress_pct"], 10 + i, "{id}"),
            3 => assert_eq!(now.status, StatusCode::NOT_FOUND, "{id}"),
            _ => assert_eq!(&now.json(), was, "{id}: unchanged"),
        }
    }
    // The history has exactly the accepted writes.
    for i in (0..25).filter(|i| i % 6 == 0 || i % 6 == 3) {
        let id = format!("P{:03}", 10 + i);
        let h = s
            .call(
                Method::GET,
                &format!("/collections/projects/items/{id}/history?f=json&limit=1000"),
                &[],
                None,
            )
            .await
            .json();
        let by_anna: Vec<&str> = h["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["user"] == EDITOR.0)
            .map(|c| c["operation"].as_str().unwrap())
            .collect();
        let expected = if i % 6 == 0 { "update" } else { "delete" };
        assert_eq!(by_anna, [expected], "{id}");
    }
}

/// The demo's history file, one JSON object per line: change `seq` k is line k (the import
/// records it first, in file order, numbering from 1).
fn history_lines() -> Vec<Json> {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/data/projects_history.jsonl"),
    )
    .unwrap()
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

/// The `seq` of each feature of a page.
fn seqs_of(fc: &Json) -> Vec<u64> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["seq"].as_u64().unwrap())
        .collect()
}

on_both_stores!(the_change_log_pages_sorts_and_boxes_its_changes_from_the_store);
/// The change log is read from the store page by page: what it answers is checked against the
/// history file it was imported from, for paging, sorting, boxes, filters and single changes.
async fn the_change_log_pages_sorts_and_boxes_its_changes_from_the_store(kind: Kind) {
    let s = server(kind);
    let lines = history_lines();
    let n = lines.len() as u64;
    let log = "/collections/projects_changes";

    // The collection: as many changes as lines, over the file's first and last times.
    let meta = s.get(&format!("{log}?f=json")).await.json();
    assert_eq!(meta["itemCount"].as_u64(), Some(n));
    let times: Vec<&str> = lines.iter().map(|l| l["at"].as_str().unwrap()).collect();
    let interval = &meta["extent"]["temporal"]["interval"][0];
    assert_eq!(interval[0], *times.iter().min().unwrap());
    assert_eq!(interval[1], *times.iter().max().unwrap());
    let page = s.get(&format!("{log}?f=html")).await.text();
    assert!(
        page.contains(&format!("<th>Features</th><td>{n}</td>")),
        "{page}"
    );

    // Pages of 100 through the next links: every change once, in the file's order, each with
    // the file's user, time, feature and operation.
    let mut url = format!("{log}/items?limit=100");
    let mut seen = Vec::new();
    loop {
        let page = s.get(&url).await.json();
        assert_eq!(page["numberMatched"].as_u64(), Some(n));
        for f in page["features"].as_array().unwrap() {
            let p = &f["properties"];
            let line = &lines[p["seq"].as_u64().unwrap() as usize - 1];
            assert_eq!(p["at"], line["at"]);
            assert_eq!(p["user"], line["user"]);
            assert_eq!(p["feature"], line["id"]);
            assert_eq!(p["operation"], line["op"]);
            seen.push(p["seq"].as_u64().unwrap());
        }
        let next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| l["href"].as_str().unwrap().to_string());
        match next {
            Some(href) => url = href[href.find("/collections/").unwrap()..].to_string(),
            None => break,
        }
    }
    assert_eq!(seen, (1..=n).collect::<Vec<_>>());

    // sortby: by user, then the latest first; ties keep the log's order.
    let mut expected: Vec<u64> = (1..=n).collect();
    let user = |seq: u64| {
        lines[seq as usize - 1]["user"]
            .as_str()
            .unwrap()
            .to_string()
    };
    expected.sort_by(|a, b| user(*a).cmp(&user(*b)).then(b.cmp(a)));
    let sorted = s
        .get(&format!("{log}/items?sortby=user,-seq&limit=7&offset=3"))
        .await
        .json();
    assert_eq!(seqs_of(&sorted), expected[3..10].to_vec());
    let at = |seq: u64| lines[seq as usize - 1]["at"].as_str().unwrap().to_string();
    let mut latest: Vec<u64> = (1..=n).collect();
    latest.sort_by_key(|&seq| std::cmp::Reverse(at(seq)));
    let sorted = s
        .get(&format!("{log}/items?sortby=-at&limit=5"))
        .await
        .json();
    assert_eq!(seqs_of(&sorted), latest[..5].to_vec());

    // Equality filters and a CQL2 filter on the file's users and operations.
    let galli = |l: &&Json| l["user"] == "monitoraggio.galli";
    let created_by_galli = lines
        .iter()
        .filter(galli)
        .filter(|l| l["op"] == "create")
        .count() as u64;
    let eq = s
        .get(&format!(
            "{log}/items?user=monitoraggio.galli&operation=create&limit=1"
        ))
        .await
        .json();
    assert_eq!(eq["numberMatched"].as_u64(), Some(created_by_galli));
    let cql = s
        .get(&format!(
            "{log}/items?filter=user%3D%27monitoraggio.galli%27%20AND%20operation%3C%3E%27create%27&limit=1000"
        ))
        .await
        .json();
    let updated_by_galli: Vec<u64> = (1..=n)
        .filter(|&seq| {
            let l = &lines[seq as usize - 1];
            galli(&l) && l["op"] != "create"
        })
        .collect();
    assert_eq!(seqs_of(&cql), updated_by_galli);
    let none = s.get(&format!("{log}/items?filter=FALSE")).await.json();
    assert_eq!(none["numberMatched"].as_u64(), Some(0));

    // A box around P001, a point (lon 10.0056544, lat 45.1207899 in projects.geojson): its
    // changes and no other; the same with a CQL2 polygon, and with datetime on top.
    let (lon, lat) = (10.0056544, 45.1207899);
    let d = 0.0001;
    let of_p001: Vec<u64> = (1..=n)
        .filter(|&seq| lines[seq as usize - 1]["id"] == "P001")
        .collect();
    assert!(of_p001.len() >= 2, "the file changes P001 more than once");
    let boxed = s
        .get(&format!(
            "{log}/items?bbox={},{},{},{}",
            lon - d,
            lat - d,
            lon + d,
            lat + d
        ))
        .await
        .json();
    assert_eq!(seqs_of(&boxed), of_p001);
    assert!(close(coords(&boxed["features"][0]), (lon, lat), 1e-7));
    let polygon = format!(
        "S_INTERSECTS(geometry,POLYGON(({a} {b},{c} {b},{c} {e},{a} {e},{a} {b})))",
        a = lon - d,
        b = lat - d,
        c = lon + d,
        e = lat + d
    );
    let filtered = s
        .get(&format!(
            "{log}/items?filter={}",
            polygon.replace(' ', "%20").replace(',', "%2C")
        ))
        .await
        .json();
    assert_eq!(seqs_of(&filtered), of_p001);
    let first_time = at(of_p001[0]);
    let dated = s
        .get(&format!(
            "{log}/items?bbox={},{},{},{}&datetime={first_time}",
            lon - d,
            lat - d,
            lon + d,
            lat + d
        ))
        .await
        .json();
    let same_time: Vec<u64> = of_p001
        .iter()
        .copied()
        .filter(|&seq| at(seq) == first_time)
        .collect();
    assert_eq!(seqs_of(&dated), same_time);

    // One change by its seq; a seq the log does not have is a 404.
    let one = s.get(&format!("{log}/items/7")).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text());
    let one = one.json();
    assert_eq!(one["properties"]["seq"], 7);
    assert_eq!(one["properties"]["feature"], lines[6]["id"]);
    for missing in [format!("{}", n + 1), "0".into(), "P001".into()] {
        let a = s.get(&format!("{log}/items/{missing}")).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{missing}: {}", a.text());
    }

    // Its vector tile where P001 is (z 12: x = floor((lon + 180) / 360 * 4096) = 2161,
    // y = floor((1 - ln(tan(lat) + sec(lat)) / pi) / 2 * 4096) = 1471) has data; one over
    // the Pacific has none.
    let tile = s
        .get(&format!("{log}/tiles/WebMercatorQuad/12/1471/2161"))
        .await;
    assert_eq!(tile.status, StatusCode::OK);
    assert!(!tile.body.is_empty());
    let empty = s
        .get(&format!("{log}/tiles/WebMercatorQuad/12/2000/100"))
        .await;
    assert_eq!(empty.status, StatusCode::NO_CONTENT);

    // The analyses search the layers held in memory; the log is not one of them: said so.
    let refused = s
        .get("/analysis/nearest?layer=projects_changes&k=1&point=10.02,45.14")
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text().contains("change log"), "{}", refused.text());
}
