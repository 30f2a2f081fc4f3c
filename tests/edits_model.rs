//! The edits of the demo's projects checked against a model: 1,000 seeded random writes
//! (POST, PATCH, PUT, DELETE), valid and invalid, by an editor, by a user without the right and
//! with a wrong password, with no, fresh, stale, weak and `*` `If-Match`, sent to the service
//! (in process, through `tower::ServiceExt::oneshot`) and applied to a model: a map of id ->
//! properties and geometry, with the catalogue's declared rules applied by
//! `common::projects::Rules`, written independently of the service's rules.
//!
//! After each write: the status is the model's, the answer's feature and `ETag` are the
//! model's, and the touched feature reads back as the model has it (404 when the model has no
//! such feature). Every 50 writes and at the end, the whole collection (`numberMatched`
//! included) is the model's; at the end, each feature's history lists exactly the writes that
//! succeeded, in order, by whom. New features get P151, P152... in order, never the id of a
//! deleted one.
//!
//! Requests through `oneshot` carry no client address, so the accounts' throttling of failed
//! sign-ins (5 a minute per address, then 429) counts nothing here: every wrong password is
//! answered 401. Throttling has its own tests (tests/accounts.rs, tests/security.rs).
//!
//! The run is made twice, with the same seed and the same expectations: on the embedded SQLite
//! store and on the PostgreSQL/PostGIS store (`tests/common/stores.rs`); the restart is a
//! second server on the same store.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{json, Map, Value as Json};
use territorio::accounts::{Accounts, AccountsFile, HashCost};
use territorio::api::{app, App, ServerConfig};
use territorio::catalog::CatalogConfig;
use territorio::store::Catalog;

use common::http::{send, Answer};
use common::projects::{Rng, Rules, STATUSES};
use common::stores::{Edits, Kind};

const EDITOR: (&str, &str) = ("anna", "a long editor password");
const READER: (&str, &str) = ("bruno", "a long reader password");
const EDITS: usize = 1000;
const SEED: u64 = 0x7e22_1704_0001;

type Props = Map<String, Json>;

struct Server {
    app: App,
    edits: Arc<Edits>,
}

/// The demo catalogue with edits on and a fresh store of `kind`: `anna` may edit the projects,
/// `bruno` nothing.
fn server(kind: Kind) -> Server {
    let edits = Edits::fresh(kind);
    let accounts = edits.dir().join("accounts.toml");
    let mut file = AccountsFile::read_or_new(&accounts).unwrap();
    file.add_user(EDITOR.0, EDITOR.1, &["projects".into()], HashCost::MINIMAL)
        .unwrap();
    file.add_user(READER.0, READER.1, &[], HashCost::MINIMAL)
        .unwrap();
    file.save().unwrap();
    serve(Arc::new(edits))
}

/// A server on the store and accounts of `edits` (a second one on the same store is the
/// server restarted).
fn serve(edits: Arc<Edits>) -> Server {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/catalog.toml");
    let catalog = Catalog::load(CatalogConfig::from_file(&path).unwrap(), &|_| {}).unwrap();
    let state = edits.serve(catalog, ServerConfig::default());
    state.set_accounts(Accounts::open(&edits.dir().join("accounts.toml")).unwrap());
    Server {
        app: app(state),
        edits,
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
        headers: &[(String, String)],
        body: Option<&Json>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        send(self.app.clone(), req.body(body).unwrap()).await
    }

    async fn get(&self, uri: &str) -> Answer {
        self.call(
            Method::GET,
            uri,
            &[("accept".into(), "application/geo+json".into())],
            None,
        )
        .await
    }
}

/// Who sends a write.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Editor,
    /// An account without the right to edit projects: 403.
    Reader,
    /// The editor's name with a wrong password: 401.
    WrongPassword,
}

/// A feature of the model.
#[derive(Debug, Clone)]
struct Feature {
    props: Props,
    /// CRS84, as sent (or as first read).
    geometry: Json,
    tag: String,
    /// The tags it had before: sent as stale `If-Match`.
    old_tags: Vec<String>,
}

struct Model {
    rules: Rules,
    features: BTreeMap<String, Feature>,
    /// Ids of deleted features.
    gone: Vec<String>,
    /// The number of the next new id.
    next: u32,
    /// The operations that succeeded, by feature, in order.
    log: BTreeMap<String, Vec<&'static str>>,
}

/// One write, as sent.
#[derive(Debug)]
struct Write {
    method: Method,
    /// The feature written (`None` for POST).
    target: Option<String>,
    who: Who,
    if_match: Option<String>,
    body: Option<Json>,
}

/// What the model expects of a write.
#[derive(Debug, PartialEq)]
enum Expect {
    /// 201, 200 or 204, and the feature's state after it (`None`: deleted).
    Done(u16, String, Option<(Props, Json)>),
    /// 422 listing exactly these fields.
    Invalid(BTreeSet<String>),
    /// Another refusal: 401, 403, 404, 412, or 422 for the geometry.
    Refused(u16),
}

/// A point in CRS84; `valid: false` gives one outside any CRS's area.
fn point(rng: &mut Rng, valid: bool) -> Json {
    let lon = if valid {
        9.6 + rng.below(8000) as f64 / 10_000.0
    } else {
        200.0
    };
    let lat = 45.0 + rng.below(4000) as f64 / 10_000.0;
    json!({"type": "Point", "coordinates": [lon, lat]})
}

/// Whether every longitude of a geometry is one (the invalid points have 200).
fn geometry_ok(g: &Json) -> bool {
    fn positions_ok(c: &Json) -> bool {
        match c.as_array().map(Vec::as_slice) {
            Some([Json::Number(lon), ..]) => lon.as_f64().is_some_and(|x| x.abs() <= 180.0),
            Some(list) => list.iter().all(positions_ok),
            None => false,
        }
    }
    positions_ok(&g["coordinates"])
}

/// Valid new properties, as a client fills a form.
fn new_props(rng: &mut Rng, n: usize) -> Props {
    let mut p = Map::new();
    p.insert("title".into(), json!(format!("Progetto modello {n}")));
    p.insert("axis".into(), json!(1 + rng.below(8)));
    p.insert("status".into(), json!(rng.pick(&STATUSES)));
    p.insert("progress_pct".into(), json!(rng.below(101)));
    if rng.chance(0.5) {
        p.insert("budget_eur".into(), json!(5000 * rng.below(400)));
        p.insert("start_date".into(), json!("2026-03-01"));
        p.insert("end_date".into(), json!("2027-06-30"));
    }
    if rng.chance(0.3) {
        p.insert(
            "aqst_programme".into(),
            json!(rng.pick(&["primo", "integrativo", "none"])),
        );
    }
    p
}

/// A change of properties, valid or not, for a PATCH (or a PUT, on top of the current ones).
fn change(rng: &mut Rng, current: Option<&Props>, id: &str) -> Props {
    let mut p = Map::new();
    match rng.below(20) {
        // Valid changes.
        0..=4 => {
            p.insert("progress_pct".into(), json!(rng.below(101)));
        }
        5..=6 => {
            p.insert("status".into(), json!(rng.pick(&STATUSES)));
            p.insert("progress_pct".into(), json!(rng.below(101)));
        }
        7 => {
            // An integer written as a real.
            p.insert("progress_pct".into(), json!(rng.below(101) as f64));
        }
        8 => {
            // Read-only values echoed as the service gives them, as QGIS sends them.
            let axis = 1 + rng.below(8);
            p.insert("axis".into(), json!(axis));
            let names = current_axis_names();
            p.insert("axis_name".into(), json!(names[axis - 1]));
            p.insert("id".into(), json!(id));
        }
        9 => {
            p.insert(
                "budget_eur".into(),
                json!(rng.below(1_000_000) as f64 + 0.5),
            );
            p.insert("title".into(), json!(format!("Titolo {}", rng.below(1000))));
        }
        // Invalid ones.
        10 => {
            p.insert("colour".into(), json!("red"));
        }
        11 => {
            p.insert("progress_pct".into(), json!(rng.pick(&[101, -1, 250])));
        }
        12 => {
            let wrong = [
                ("progress_pct", json!("half")),
                ("axis", json!("three")),
                ("budget_eur", json!(true)),
                ("start_date", json!(20260101)),
                ("title", json!(12)),
                ("progress_pct", json!(12.5)),
            ];
            let (field, value) = rng.pick(&wrong);
            p.insert(field.to_string(), value.clone());
        }
        13 => {
            p.insert(
                "status".into(),
                json!(rng.pick(&["finished", "Design", ""])),
            );
        }
        14 => {
            p.insert("status".into(), Json::Null);
        }
        15 => {
            p.insert("start_date".into(), json!("2027-01-01"));
            p.insert(
                "end_date".into(),
                json!(rng.pick(&["2026-12-31", "2027-01-01", "2026-02-30"])),
            );
        }
        16 => {
            p.insert("axis".into(), json!(rng.pick(&[0, 9])));
        }
        17 => {
            p.insert("axis_name".into(), json!("Altro"));
        }
        18 => {
            p.insert("id".into(), json!("X1"));
        }
        _ => {
            p.insert("progress_pct".into(), json!(rng.below(101)));
            p.insert("lead_body".into(), json!("Provincia di Cremona"));
            if current.is_some() && rng.chance(0.3) {
                p.insert("municipality".into(), Json::Null);
            }
        }
    }
    p
}

/// The axis names, as the catalogue declares them (for echoing a derived value).
fn current_axis_names() -> Vec<String> {
    let catalog = common::http::demo_catalog();
    let layer = catalog.layer("projects").unwrap();
    let rule = layer
        .config
        .field_rules
        .iter()
        .find(|r| r.name == "axis_name")
        .unwrap();
    let d = rule.derived.as_ref().unwrap();
    (1..=8).map(|i| d.values[&i.to_string()].clone()).collect()
}

impl Model {
    fn next_id(&self) -> String {
        format!("P{:03}", self.next)
    }

    /// A random write.
    fn write(&self, rng: &mut Rng, n: usize) -> Write {
        let who = match rng.below(20) {
            0 | 1 => Who::Reader,
            2 | 3 => Who::WrongPassword,
            _ => Who::Editor,
        };
        let live: Vec<&String> = self.features.keys().collect();
        let target = |rng: &mut Rng| -> String {
            match rng.below(20) {
                0 if !self.gone.is_empty() => rng.pick(&self.gone).clone(),
                1 => "P9999".to_string(),
                _ => (*rng.pick(&live)).clone(),
            }
        };
        let if_match = |rng: &mut Rng, id: &str| -> Option<String> {
            let f = self.features.get(id)?;
            match rng.below(20) {
                0..=9 => None,
                10..=14 => Some(f.tag.clone()),
                15..=16 => Some(
                    f.old_tags
                        .last()
                        .cloned()
                        .unwrap_or_else(|| "\"0123456789abcdef-1\"".into()),
                ),
                17 => Some(format!("W/{}", f.tag)),
                18 => Some(format!("\"nothing\", {}", f.tag)),
                _ => Some("*".into()),
            }
        };
        match rng.below(100) {
            0..=19 => {
                let mut props = new_props(rng, n);
                if rng.chance(0.3) {
                    props.extend(change(rng, None, &self.next_id()));
                }
                if rng.chance(0.1) {
                    props.remove("title");
                }
                let valid = !rng.chance(0.05);
                Write {
                    method: Method::POST,
                    target: None,
                    who,
                    if_match: None,
                    body: Some(
                        json!({"type": "Feature", "geometry": point(rng, valid), "properties": props}),
                    ),
                }
            }
            20..=69 => {
                let id = target(rng);
                let current = self.features.get(&id).map(|f| &f.props);
                let mut body = Map::new();
                if rng.chance(0.9) {
                    body.insert("properties".into(), Json::Object(change(rng, current, &id)));
                }
                if body.is_empty() || rng.chance(0.15) {
                    let valid = !rng.chance(0.2);
                    body.insert("geometry".into(), point(rng, valid));
                }
                let if_match = if_match(rng, &id);
                Write {
                    method: Method::PATCH,
                    target: Some(id),
                    who,
                    if_match,
                    body: Some(Json::Object(body)),
                }
            }
            70..=81 => {
                let id = target(rng);
                let mut props = self
                    .features
                    .get(&id)
                    .map(|f| f.props.clone())
                    .unwrap_or_else(|| new_props(rng, n));
                props.extend(change(rng, Some(&props.clone()), &id));
                // Properties left out become null.
                if rng.chance(0.3) {
                    let names: Vec<String> = props.keys().cloned().collect();
                    props.remove(rng.pick(&names));
                }
                let geometry = match self.features.get(&id) {
                    Some(f) if rng.chance(0.5) => f.geometry.clone(),
                    _ => point(rng, true),
                };
                let mut body =
                    json!({"type": "Feature", "geometry": geometry, "properties": props});
                if rng.chance(0.5) {
                    body["id"] = json!(id);
                }
                let if_match = if_match(rng, &id);
                Write {
                    method: Method::PUT,
                    target: Some(id),
                    who,
                    if_match,
                    body: Some(body),
                }
            }
            _ => {
                // DELETE, often of a feature already deleted.
                let id = if !self.gone.is_empty() && rng.chance(0.25) {
                    rng.pick(&self.gone).clone()
                } else {
                    target(rng)
                };
                let if_match = if_match(rng, &id);
                Write {
                    method: Method::DELETE,
                    target: Some(id),
                    who,
                    if_match,
                    body: None,
                }
            }
        }
    }

    /// What the service must answer, in the order it checks: credentials and rights, the
    /// feature exists, the geometry, `If-Match`, the rules.
    fn expect(&self, w: &Write) -> Expect {
        match w.who {
            Who::WrongPassword => return Expect::Refused(401),
            Who::Reader => return Expect::Refused(403),
            Who::Editor => {}
        }
        let current = match &w.target {
            Some(id) => match self.features.get(id) {
                Some(f) => Some((id.clone(), f)),
                None => return Expect::Refused(404),
            },
            None => None,
        };
        let body = w.body.as_ref();
        let geometry = body.and_then(|b| b.get("geometry"));
        if geometry.is_some_and(|g| !geometry_ok(g)) {
            return Expect::Refused(422);
        }
        if let (Some(tags), Some((_, f))) = (&w.if_match, &current) {
            let fresh = tags.trim() == "*"
                || tags
                    .split(',')
                    .map(str::trim)
                    .any(|t| !t.starts_with("W/") && t == f.tag);
            if !fresh {
                return Expect::Refused(412);
            }
        }
        let sent = body
            .and_then(|b| b.get("properties"))
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        let (status, id, base, geometry) = match (&w.method, &current) {
            (&Method::POST, _) => (201, self.next_id(), None, geometry.cloned()),
            (&Method::PUT, Some((id, _))) => (200, id.clone(), None, geometry.cloned()),
            (&Method::PATCH, Some((id, f))) => (
                200,
                id.clone(),
                Some(&f.props),
                Some(geometry.cloned().unwrap_or_else(|| f.geometry.clone())),
            ),
            (&Method::DELETE, Some((id, _))) => return Expect::Done(204, id.clone(), None),
            _ => unreachable!("a write with a target has one"),
        };
        match self.rules.apply(base, &sent, &id) {
            Ok(props) => Expect::Done(status, id, Some((props, geometry.expect("a geometry")))),
            Err(fields) => Expect::Invalid(fields),
        }
    }

    /// Applies a write that was done; `tag` is the feature's new `ETag`.
    fn done(
        &mut self,
        method: &Method,
        id: &str,
        state: Option<(Props, Json)>,
        tag: Option<String>,
    ) {
        let operation = match *method {
            Method::POST => {
                self.next += 1;
                "create"
            }
            Method::PUT => "replace",
            Method::PATCH => "update",
            _ => "delete",
        };
        self.log.entry(id.to_string()).or_default().push(operation);
        match state {
            Some((props, geometry)) => {
                let tag = tag.expect("a tag");
                let old = self.features.remove(id);
                let mut old_tags = old.map(|f| {
                    let mut t = f.old_tags;
                    t.push(f.tag);
                    t
                });
                let old_tags = old_tags.take().unwrap_or_default();
                assert!(!old_tags.contains(&tag), "{id}: tag {tag} was given before");
                self.features.insert(
                    id.to_string(),
                    Feature {
                        props,
                        geometry,
                        tag,
                        old_tags,
                    },
                );
            }
            None => {
                self.features.remove(id);
                self.gone.push(id.to_string());
            }
        }
    }
}

/// Coordinates equal within 1e-7 degree (the round trip through the working CRS).
fn same_geometry(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-7
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_geometry(x, y))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_geometry(v, w)))
        }
        _ => a == b,
    }
}

fn problem_fields(a: &Answer) -> BTreeSet<String> {
    a.json()["invalid-params"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The served feature `id` is the model's (or absent when the model has none).
async fn check_feature(s: &Server, model: &Model, id: &str, context: &str) {
    let got = s.get(&format!("/collections/projects/items/{id}")).await;
    match model.features.get(id) {
        None => assert_eq!(
            got.status,
            404,
            "{context}: {id} must be absent: {}",
            got.text()
        ),
        Some(f) => {
            assert_eq!(got.status, 200, "{context}: {id}: {}", got.text());
            let json = got.json();
            assert_eq!(
                json["properties"],
                Json::Object(f.props.clone()),
                "{context}: {id}"
            );
            assert!(
                same_geometry(&json["geometry"], &f.geometry),
                "{context}: {id}: geometry {} instead of {}",
                json["geometry"],
                f.geometry
            );
            assert_eq!(got.header("etag"), f.tag, "{context}: {id}");
        }
    }
}

/// The whole collection is the model's.
async fn check_all(s: &Server, model: &Model, context: &str) {
    let fc = s
        .get("/collections/projects/items?limit=10000")
        .await
        .json();
    assert_eq!(
        fc["numberMatched"].as_u64().unwrap() as usize,
        model.features.len(),
        "{context}: numberMatched"
    );
    let features = fc["features"].as_array().unwrap();
    let ids: Vec<&str> = features.iter().map(|f| f["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = model.features.keys().map(String::as_str).collect();
    assert_eq!(ids, expected, "{context}: the ids");
    for f in features {
        let m = &model.features[f["id"].as_str().unwrap()];
        assert_eq!(f["properties"], Json::Object(m.props.clone()), "{context}");
        assert!(
            same_geometry(&f["geometry"], &m.geometry),
            "{context}: {}",
            f["id"]
        );
    }
}

on_both_stores!(a_thousand_random_edits_match_the_model);
async fn a_thousand_random_edits_match_the_model(kind: Kind) {
    let started = Instant::now();
    let s = server(kind);
    // TERRITORIO_TEST_SEED=N runs another sequence.
    let seed = std::env::var("TERRITORIO_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    let mut rng = Rng::new(seed);
    let fc = s
        .get("/collections/projects/items?limit=10000")
        .await
        .json();
    let mut model = Model {
        rules: Rules::of(&common::http::demo_catalog()),
        features: BTreeMap::new(),
        gone: Vec::new(),
        next: 0,
        log: BTreeMap::new(),
    };
    let mut history_before = BTreeMap::new();
    for f in fc["features"].as_array().unwrap() {
        let id = f["id"].as_str().unwrap().to_string();
        let one = s.get(&format!("/collections/projects/items/{id}")).await;
        let history = s
            .get(&format!(
                "/collections/projects/items/{id}/history?f=json&limit=1"
            ))
            .await
            .json();
        history_before.insert(
            id.clone(),
            history["numberMatched"].as_u64().unwrap() as usize,
        );
        model.features.insert(
            id,
            Feature {
                props: f["properties"].as_object().unwrap().clone(),
                geometry: f["geometry"].clone(),
                tag: one.header("etag").to_string(),
                old_tags: Vec::new(),
            },
        );
    }
    // The demo's ids are P001..P150: new ones follow.
    let highest = model
        .features
        .keys()
        .map(|id| id[1..].parse::<u32>().unwrap())
        .max()
        .unwrap();
    assert_eq!(highest, 150);
    model.next = highest + 1;

    let mut tally: BTreeMap<u16, usize> = BTreeMap::new();
    for n in 1..=EDITS {
        let w = model.write(&mut rng, n);
        let expect = model.expect(&w);
        let uri = match &w.target {
            Some(id) => format!("/collections/projects/items/{id}"),
            None => "/collections/projects/items".to_string(),
        };
        let mut headers = vec![(
            "authorization".to_string(),
            match w.who {
                Who::Editor => basic(EDITOR),
                Who::Reader => basic(READER),
                Who::WrongPassword => basic((EDITOR.0, "not the password")),
            },
        )];
        let content_type = match w.method {
            Method::PATCH => "application/merge-patch+json",
            _ => "application/geo+json",
        };
        headers.push(("content-type".into(), content_type.into()));
        if let Some(tag) = &w.if_match {
            headers.push(("if-match".into(), tag.clone()));
        }
        let answer = s
            .call(w.method.clone(), &uri, &headers, w.body.as_ref())
            .await;
        let context = format!(
            "edit {n}: {} {uri} {:?} {:?} {}",
            w.method,
            w.who,
            w.if_match,
            w.body.as_ref().map(|b| b.to_string()).unwrap_or_default()
        );
        *tally.entry(answer.status.as_u16()).or_default() += 1;
        match expect {
            Expect::Done(status, id, state) => {
                assert_eq!(answer.status, status, "{context}: {}", answer.text());
                let tag = state.as_ref().map(|(props, geometry)| {
                    let body = answer.json();
                    assert_eq!(body["id"], json!(id), "{context}");
                    assert_eq!(body["properties"], Json::Object(props.clone()), "{context}");
                    assert!(same_geometry(&body["geometry"], geometry), "{context}");
                    let tag = answer.header("etag").to_string();
                    assert!(tag.starts_with('"'), "{context}: a strong tag: {tag:?}");
                    tag
                });
                if status == 201 {
                    assert!(
                        answer
                            .header("location")
                            .ends_with(&format!("/collections/projects/items/{id}")),
                        "{context}: {}",
                        answer.header("location")
                    );
                }
                model.done(&w.method, &id, state, tag);
                check_feature(&s, &model, &id, &context).await;
            }
            Expect::Invalid(fields) => {
                assert_eq!(
                    answer.status,
                    422,
                    "{context}: expected invalid {fields:?}: {}",
                    answer.text()
                );
                assert_eq!(
                    problem_fields(&answer),
                    fields,
                    "{context}: {}",
                    answer.text()
                );
            }
            Expect::Refused(status) => {
                assert_eq!(answer.status, status, "{context}: {}", answer.text());
                assert_eq!(
                    answer.content_type(),
                    "application/problem+json",
                    "{context}"
                );
                if status == 412 {
                    let id = w.target.as_ref().unwrap();
                    assert_eq!(answer.header("etag"), model.features[id].tag, "{context}");
                }
            }
        }
        if let Some(id) = &w.target {
            check_feature(&s, &model, id, &context).await;
        }
        if n % 50 == 0 {
            check_all(&s, &model, &format!("after edit {n}")).await;
        }
    }
    check_all(&s, &model, "at the end").await;
    // Restarted on the same store: the same features, in the same order, with the same tags.
    let restarted = serve(s.edits.clone());
    check_all(&restarted, &model, "after a restart").await;
    for id in model.features.keys() {
        check_feature(&restarted, &model, id, "after a restart").await;
    }

    // Each feature's history: what it had before, then exactly the writes that were done.
    for (id, operations) in &model.log {
        let h = s
            .get(&format!(
                "/collections/projects/items/{id}/history?f=json&limit=10000"
            ))
            .await
            .json();
        let before = history_before.get(id).copied().unwrap_or(0);
        let changes = h["changes"].as_array().unwrap();
        assert_eq!(changes.len(), before + operations.len(), "history of {id}");
        let got: Vec<&str> = changes[before..]
            .iter()
            .map(|c| c["operation"].as_str().unwrap())
            .collect();
        assert_eq!(&got, operations, "history of {id}");
        assert!(changes[before..].iter().all(|c| c["user"] == EDITOR.0));
    }
    // The run covered every kind of answer.
    for status in [200, 201, 204, 401, 403, 404, 412, 422] {
        assert!(
            tally.get(&status).copied().unwrap_or(0) >= 10,
            "{status}: {tally:?}"
        );
    }
    eprintln!(
        "{EDITS} edits ({tally:?}), {} features now, checked in {:.1} s",
        model.features.len(),
        started.elapsed().as_secs_f64()
    );
}
