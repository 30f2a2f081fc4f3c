//! Edits survive `kill -9`: the real `territorio serve` takes concurrent writes from several
//! clients and is killed (SIGKILL) at three moments: after 50 acknowledged edits, after 200,
//! and after a random number. After each restart on the same data folder:
//! - every acknowledged edit is there: an acknowledged create exists with its properties unless
//!   an acknowledged delete removed it, and the last acknowledged PATCH of a field wins;
//! - nothing is half there: every feature passes the layer's rules, the features are exactly
//!   the model's, and an edit that was in flight when the server died is there whole or not at
//!   all;
//! - and, at the end, each feature's history lists every acknowledged change, in order.
//!
//! Each client thread owns its features (a share of the demo's and those it creates), so the
//! expected state does not depend on how the threads interleave. The seed of the random choices
//! is printed; `TERRITORIO_TEST_SEED=N` replays a run.
//!
//! Run on both stores (`tests/common/stores.rs`): `--data-dir` (SQLite) and `--edits-db` (a
//! fresh PostgreSQL/PostGIS database of a throwaway cluster); with PostgreSQL, an
//! acknowledged edit is one the database committed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value as Json};

use common::process::{self, Server};
use common::projects::{Rng, Rules, STATUSES};
use common::stores::{Edits, Kind};

const THREADS: usize = 4;
const USER: &str = "anna";
const PASSWORD: &str = "a long editor password";

type Props = Map<String, Json>;

/// An edit a client sent.
#[derive(Debug, Clone)]
enum Edit {
    /// A new project, told apart by its unique title (its id is known only from the answer).
    Create {
        title: String,
        sent: Props,
    },
    Patch {
        id: String,
        sent: Props,
    },
    Delete {
        id: String,
    },
}

/// What one client did while one server ran.
#[derive(Debug, Default)]
struct Run {
    /// Acknowledged edits, in order, with the feature's id.
    acked: Vec<(Edit, String)>,
    /// The edit whose answer never came: the server died meanwhile.
    in_flight: Option<Edit>,
    /// Answers other than the expected 2xx (there must be none).
    refused: Vec<String>,
}

/// One recorded change: the operation and the properties after it (`None`: deleted).
type Change = (&'static str, Option<Props>);

/// What the store must hold.
struct Model {
    rules: Rules,
    features: BTreeMap<String, Props>,
    /// Which client owns each feature.
    owner: BTreeMap<String, usize>,
    /// The changes this test made, by feature, in order.
    log: BTreeMap<String, Vec<Change>>,
    /// The length of each feature's history before the test.
    history_before: BTreeMap<String, u64>,
}

impl Model {
    fn apply(&mut self, edit: &Edit, id: &str) {
        let change = match edit {
            Edit::Create { sent, .. } => {
                let props = self.rules.apply(None, sent, id).expect("a valid create");
                assert!(
                    !self.features.contains_key(id) && !self.log.contains_key(id),
                    "new id {id} was used before"
                );
                self.features.insert(id.to_string(), props.clone());
                ("create", Some(props))
            }
            Edit::Patch { sent, .. } => {
                let props = self
                    .rules
                    .apply(Some(&self.features[id]), sent, id)
                    .expect("a valid patch");
                self.features.insert(id.to_string(), props.clone());
                ("update", Some(props))
            }
            Edit::Delete { .. } => {
                self.features.remove(id);
                ("delete", None)
            }
        };
        self.log.entry(id.to_string()).or_default().push(change);
    }

    fn owned_by(&self, client: usize) -> Vec<String> {
        self.features
            .keys()
            .filter(|id| self.owner.get(*id) == Some(&client))
            .cloned()
            .collect()
    }

    /// The length of a feature's history if exactly the model's changes were made.
    fn history_len(&self, id: &str) -> u64 {
        self.history_before.get(id).copied().unwrap_or(0)
            + self.log.get(id).map_or(0, |l| l.len() as u64)
    }
}

fn auth() -> String {
    process::basic(USER, PASSWORD)
}

/// The features served, by id.
fn served(server: &Server) -> BTreeMap<String, (Props, Json)> {
    let fc = server.get_json("/collections/projects/items?limit=10000");
    let features = fc["features"].as_array().unwrap();
    assert_eq!(
        fc["numberMatched"].as_u64().unwrap() as usize,
        features.len(),
        "numberMatched counts the features"
    );
    features
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                (
                    f["properties"].as_object().unwrap().clone(),
                    f["geometry"].clone(),
                ),
            )
        })
        .collect()
}

fn history(server: &Server, id: &str) -> Json {
    server.get_json(&format!(
        "/collections/projects/items/{id}/history?f=json&limit=10000"
    ))
}

fn history_len(server: &Server, id: &str) -> u64 {
    let r = server.call(
        "GET",
        &format!("/collections/projects/items/{id}/history?f=json&limit=1"),
        &[],
        None,
    );
    match r.status {
        200 => r.json()["numberMatched"].as_u64().unwrap(),
        404 => 0,
        s => panic!("history of {id}: {s} {}", r.text()),
    }
}

/// The next edit of client `me`, on the features it owns.
fn choose(rng: &mut Rng, owned: &[String], me: usize, n: usize, round: usize) -> Edit {
    let roll = rng.below(100);
    if owned.is_empty() || roll < 25 {
        let mut sent = Map::new();
        sent.insert(
            "title".into(),
            json!(format!("Prova di durata c{me} r{round} n{n}")),
        );
        sent.insert("axis".into(), json!(1 + rng.below(8)));
        sent.insert("status".into(), json!(rng.pick(&STATUSES)));
        sent.insert("progress_pct".into(), json!(rng.below(101)));
        if rng.chance(0.5) {
            sent.insert("budget_eur".into(), json!(1000 * rng.below(5000)));
        }
        return Edit::Create {
            title: sent["title"].as_str().unwrap().to_string(),
            sent,
        };
    }
    let id = rng.pick(owned).clone();
    if roll < 88 {
        let mut sent = Map::new();
        if rng.chance(0.8) {
            sent.insert("progress_pct".into(), json!(rng.below(101)));
        }
        if sent.is_empty() || rng.chance(0.5) {
            sent.insert("status".into(), json!(rng.pick(&STATUSES)));
        }
        Edit::Patch { id, sent }
    } else {
        Edit::Delete { id }
    }
}

/// Sends an edit; `Ok(Some(id))` when acknowledged, `Ok(None)` when answered otherwise,
/// `Err` when no answer came.
fn send(addr: &str, edit: &Edit, rng: &mut Rng) -> std::io::Result<(Option<String>, String)> {
    let auth = auth();
    let (method, path, body, ok) = match edit {
        Edit::Create { sent, .. } => {
            let lon = 9.8 + rng.below(4000) as f64 / 10_000.0;
            let lat = 45.1 + rng.below(2000) as f64 / 10_000.0;
            let body = json!({"type": "Feature", "properties": sent,
                "geometry": {"type": "Point", "coordinates": [lon, lat]}});
            (
                "POST",
                "/collections/projects/items".to_string(),
                Some(body),
                201,
            )
        }
        Edit::Patch { id, sent } => (
            "PATCH",
            format!("/collections/projects/items/{id}"),
            Some(json!({"properties": sent})),
            200,
        ),
        Edit::Delete { id } => (
            "DELETE",
            format!("/collections/projects/items/{id}"),
            None,
            204,
        ),
    };
    let content_type = if method == "PATCH" {
        "application/merge-patch+json"
    } else {
        "application/geo+json"
    };
    let body = body.map(|b| b.to_string().into_bytes());
    let reply = process::request(
        addr,
        method,
        &path,
        &[("authorization", &auth), ("content-type", content_type)],
        body.as_deref(),
    )?;
    if reply.status != ok {
        return Ok((
            None,
            format!("{method} {path}: {} {}", reply.status, reply.text()),
        ));
    }
    let id = match edit {
        Edit::Create { .. } => reply.json()["id"].as_str().unwrap().to_string(),
        Edit::Patch { id, .. } | Edit::Delete { id } => id.clone(),
    };
    Ok((Some(id), String::new()))
}

/// Runs the clients against `server` until `target` edits are acknowledged, then kills it.
fn run_and_kill(
    server: &mut Server,
    model: &Model,
    seed: u64,
    round: usize,
    target: usize,
) -> Vec<Run> {
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..THREADS)
        .map(|me| {
            let (stop, acked) = (stop.clone(), acked.clone());
            let addr = server.addr.clone();
            let mut owned = model.owned_by(me);
            let mut rng = Rng::new(seed ^ (((round * THREADS + me) as u64 + 1) * 0x1000_0001));
            std::thread::spawn(move || {
                let mut run = Run::default();
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let edit = choose(&mut rng, &owned, me, n, round);
                    match send(&addr, &edit, &mut rng) {
                        Ok((Some(id), _)) => {
                            match &edit {
                                Edit::Create { .. } => owned.push(id.clone()),
                                Edit::Delete { id } => owned.retain(|o| o != id),
                                Edit::Patch { .. } => {}
                            }
                            run.acked.push((edit, id));
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok((None, why)) => {
                            run.refused.push(why);
                            break;
                        }
                        Err(_) => {
                            run.in_flight = Some(edit);
                            break;
                        }
                    }
                }
                run
            })
        })
        .collect();
    let started = Instant::now();
    while acked.load(Ordering::SeqCst) < target {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "only {} edits acknowledged in 30 s\n{}",
            acked.load(Ordering::SeqCst),
            server.log()
        );
        if clients.iter().all(|c| c.is_finished()) {
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    // The moment: while the other clients wait for answers.
    server.kill();
    stop.store(true, Ordering::SeqCst);
    let runs: Vec<Run> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let refused: Vec<&String> = runs.iter().flat_map(|r| &r.refused).collect();
    assert!(refused.is_empty(), "edits refused: {refused:?}");
    eprintln!(
        "round {round}: killed after {} acknowledged edits ({} in flight), {:.1} s",
        runs.iter().map(|r| r.acked.len()).sum::<usize>(),
        runs.iter().filter(|r| r.in_flight.is_some()).count(),
        started.elapsed().as_secs_f64()
    );
    runs
}

/// Checks the restarted server against the model and the edits that were in flight, and
/// folds those that were done into the model.
fn check_after_restart(server: &Server, model: &mut Model, runs: Vec<Run>) {
    for (me, run) in runs.iter().enumerate() {
        for (edit, id) in &run.acked {
            if matches!(edit, Edit::Create { .. }) {
                model.owner.insert(id.clone(), me);
            }
            model.apply(edit, id);
        }
    }
    let served = served(server);
    for (id, (props, _)) in &served {
        let broken = model.rules.broken(props);
        assert!(
            broken.is_empty(),
            "{id} breaks the rules on {broken:?}: {props:?}"
        );
    }
    // The edits in flight: each done whole or not at all.
    let mut landed = 0;
    for (me, run) in runs.iter().enumerate() {
        let Some(edit) = &run.in_flight else { continue };
        let done_id = match edit {
            Edit::Create { title, sent } => {
                let new: Vec<&String> = served
                    .iter()
                    .filter(|(id, (p, _))| {
                        p["title"] == json!(title) && !model.features.contains_key(*id)
                    })
                    .map(|(id, _)| id)
                    .collect();
                assert!(new.len() <= 1, "{title} created twice: {new:?}");
                new.first().map(|id| {
                    let expected = model.rules.apply(None, sent, id).unwrap();
                    assert_eq!(&served[*id].0, &expected, "in-flight create {id} is whole");
                    model.owner.insert((*id).clone(), me);
                    (*id).clone()
                })
            }
            Edit::Patch { id, .. } | Edit::Delete { id } => {
                // Whether it was done shows in the history: one change more.
                let len = history_len(server, id);
                let expected = model.history_len(id);
                assert!(
                    len == expected || len == expected + 1,
                    "history of {id}: {len} changes, expected {expected} or one more"
                );
                (len == expected + 1).then(|| id.clone())
            }
        };
        if let Some(id) = done_id {
            model.apply(edit, &id);
            landed += 1;
        }
    }
    let ids: BTreeSet<&String> = served.keys().collect();
    let expected: BTreeSet<&String> = model.features.keys().collect();
    assert_eq!(ids, expected, "the features served are exactly the model's");
    for (id, props) in &model.features {
        assert_eq!(&served[id].0, props, "properties of {id}");
    }
    eprintln!(
        "restarted: {} features as expected; {landed} of the in-flight edits were done",
        served.len()
    );
}

fn seed() -> u64 {
    std::env::var("TERRITORIO_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

on_both_stores!(blocking acknowledged_edits_survive_kill_9_and_nothing_is_half_applied);
fn acknowledged_edits_survive_kill_9_and_nothing_is_half_applied(kind: Kind) {
    let started = Instant::now();
    let seed = seed();
    eprintln!("seed {seed} (TERRITORIO_TEST_SEED={seed} replays this run)");
    let mut rng = Rng::new(seed);
    let edits = Edits::fresh(kind);
    let accounts = edits.dir().join("accounts.toml");
    process::add_user(&accounts, USER, PASSWORD, &["projects"]);
    let start = || {
        Server::start(edits.serve_command(&accounts))
            .unwrap_or_else(|e| panic!("the server did not start: {e:?}"))
    };

    let mut server = start();
    let rules = Rules::of(&common::http::demo_catalog());
    let initial = served(&server);
    let mut model = Model {
        rules,
        features: initial
            .iter()
            .map(|(id, (p, _))| (id.clone(), p.clone()))
            .collect(),
        owner: initial
            .keys()
            .enumerate()
            .map(|(i, id)| (id.clone(), i % THREADS))
            .collect(),
        log: BTreeMap::new(),
        history_before: initial
            .keys()
            .map(|id| (id.clone(), history_len(&server, id)))
            .collect(),
    };
    for (id, props) in &model.features {
        let broken = model.rules.broken(props);
        assert!(broken.is_empty(), "demo feature {id} breaks {broken:?}");
    }

    let targets = [50, 200, 30 + rng.below(271)];
    for (round, target) in targets.into_iter().enumerate() {
        let runs = run_and_kill(&mut server, &model, seed, round, target);
        server = start();
        check_after_restart(&server, &mut model, runs);
    }

    // The history of every feature the clients touched: the changes before the test, then
    // each acknowledged change (and the in-flight ones that were done), in order.
    for (id, changes) in &model.log {
        let h = history(&server, id);
        let before = model.history_before.get(id).copied().unwrap_or(0) as usize;
        let listed = h["changes"].as_array().unwrap();
        assert_eq!(listed.len(), before + changes.len(), "history of {id}: {h}");
        let seqs: Vec<u64> = listed.iter().map(|c| c["seq"].as_u64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{id}: {seqs:?}");
        for (got, (operation, after)) in listed[before..].iter().zip(changes) {
            assert_eq!(got["operation"], *operation, "{id}: {got}");
            assert_eq!(got["user"], USER, "{id}: {got}");
            match after {
                Some(props) => assert_eq!(
                    &got["after"]["properties"],
                    &Json::Object(props.clone()),
                    "{id}"
                ),
                None => assert!(got["after"].is_null(), "{id}: {got}"),
            }
        }
    }
    let edits: usize = model.log.values().map(Vec::len).sum();
    eprintln!(
        "{edits} edits of {} features checked in {:.1} s",
        model.log.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(started.elapsed() < Duration::from_secs(90));
}
