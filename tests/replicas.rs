//! Several `territorio serve` processes (replicas) keeping their edits in one PostgreSQL/PostGIS
//! database (`--edits-db`), against a throwaway cluster (tests/common/pg.rs):
//! - two replicas starting together import the editable layer once;
//! - an edit made through one is served by the other within 1 s, with the same `ETag`;
//! - new ids made on both at once never collide; two edits of the same revision through the
//!   two replicas: one succeeds, the other is answered 412;
//! - a replica killed and started again serves exactly what was edited meanwhile;
//! - the key cases of the HTTP edit tests (rules, conditions, deletion, accounts) hold with
//!   this store;
//! - the database stopped (immediate shutdown) and restarted under a stream of writes: reads
//!   never fail, writes during the outage are answered 503, the health endpoint names the
//!   database, and afterwards every acknowledged edit is in the database and served by both;
//! - the history and `?at=` answer the same as with the SQLite store for the same edits;
//! - nginx (Debian's) in front of two replicas, round robin: one replica killed, every read
//!   and every write through nginx still answered 2xx; started again, it serves them;
//! - `--edits-db` needs `--accounts`, refuses a password in the connection string and
//!   `--data-dir` beside it, and a database it cannot reach stops the start, named.
//!
//! The expected values come from the requests sent and from SQL run with psql on the
//! database, never from the service's own answers alone.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use common::pg::Cluster;
use common::process::{self, Reply, Server};

const USER: &str = "anna";
const PASSWORD: &str = "a long editor password";

/// A cluster with a PostGIS database, and an accounts file where `anna` edits the projects.
struct Setup {
    cluster: Cluster,
    dsn: String,
    accounts: PathBuf,
    dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let cluster = Cluster::start();
    cluster.create_database("ptcp", true);
    let dsn = cluster.dsn("ptcp");
    let dir = tempfile::tempdir().unwrap();
    let accounts = dir.path().join("accounts.toml");
    process::add_user(&accounts, USER, PASSWORD, &["projects"]);
    Setup {
        cluster,
        dsn,
        accounts,
        dir,
    }
}

impl Setup {
    /// `territorio serve` on the demo, edits in the database.
    fn command(&self) -> Command {
        let mut cmd = Command::new(process::binary());
        cmd.args(["serve", "--catalog"])
            .arg(process::demo_catalog_file())
            .args([
                "--addr",
                "127.0.0.1:0",
                "--edits-db",
                &self.dsn,
                "--accounts",
            ])
            .arg(&self.accounts);
        cmd
    }

    fn serve(&self) -> Server {
        Server::start(self.command()).unwrap_or_else(|e| panic!("the replica did not start: {e:?}"))
    }

    /// A replica on this address (`127.0.0.1:PORT`).
    fn serve_at(&self, addr: &str) -> Server {
        let mut cmd = Command::new(process::binary());
        cmd.args(["serve", "--catalog"])
            .arg(process::demo_catalog_file())
            .args(["--addr", addr, "--edits-db", &self.dsn, "--accounts"])
            .arg(&self.accounts);
        Server::start(cmd).unwrap_or_else(|e| panic!("the replica did not start: {e:?}"))
    }

    /// `territorio serve` on the demo with the SQLite store in a folder of its own.
    fn serve_sqlite(&self) -> Server {
        let data = self.dir.path().join("sqlite");
        Server::start(process::serve_command(&data, &self.accounts))
            .unwrap_or_else(|e| panic!("the SQLite server did not start: {e:?}"))
    }

    fn sql(&self, query: &str) -> String {
        self.cluster.psql("ptcp", query)
    }
}

fn auth() -> String {
    process::basic(USER, PASSWORD)
}

fn patch(server: &Server, id: &str, properties: Json, if_match: Option<&str>) -> Reply {
    let auth = auth();
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/merge-patch+json"),
    ];
    if let Some(tag) = if_match {
        headers.push(("if-match", tag));
    }
    let body = json!({ "properties": properties }).to_string();
    server.call(
        "PATCH",
        &format!("/collections/projects/items/{id}"),
        &headers,
        Some(body.as_bytes()),
    )
}

/// A new project at (lon, lat).
fn create_body(title: &str, lon: f64, lat: f64) -> Vec<u8> {
    json!({"type": "Feature",
        "properties": {"title": title, "axis": 3, "status": "proposed", "progress_pct": 0},
        "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    .to_string()
    .into_bytes()
}

fn create(server: &Server, title: &str) -> Reply {
    let auth = auth();
    server.call(
        "POST",
        "/collections/projects/items",
        &[
            ("authorization", &auth),
            ("content-type", "application/geo+json"),
        ],
        Some(&create_body(title, 9.9, 45.2)),
    )
}

fn feature(server: &Server, id: &str) -> Reply {
    server.call(
        "GET",
        &format!("/collections/projects/items/{id}"),
        &[("accept", "application/geo+json")],
        None,
    )
}

/// Every project served: id -> (properties, geometry).
fn collection(server: &Server) -> BTreeMap<String, (Json, Json)> {
    let fc = server.get_json("/collections/projects/items?limit=10000");
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                (f["properties"].clone(), f["geometry"].clone()),
            )
        })
        .collect()
}

/// Polls `done` every 5 ms until it holds or `limit` passes; returns the time it took.
fn within(limit: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    loop {
        if done() {
            return Some(started.elapsed());
        }
        if started.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The number of features in the demo's projects file, read here with serde.
fn features_in_source() -> usize {
    let path = process::demo_catalog_file()
        .parent()
        .unwrap()
        .join("data/projects.geojson");
    let fc: Json = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    fc["features"].as_array().unwrap().len()
}

#[test]
fn replicas_over_one_database_serve_the_same_edits() {
    let s = setup();
    // Two replicas starting at the same moment: the layer is imported once.
    let (a, b) = std::thread::scope(|scope| {
        let b = scope.spawn(|| s.serve());
        let a = s.serve();
        (a, b.join().unwrap())
    });
    assert_eq!(s.sql("SELECT count(*) FROM territorio.layers"), "1");
    assert_eq!(
        s.sql(
            "SELECT count(*) FROM (SELECT feature FROM territorio.changes \
             WHERE operation = 'import' GROUP BY feature HAVING count(*) > 1) twice"
        ),
        "0",
        "no feature imported twice"
    );
    let n = features_in_source();
    assert_eq!(
        s.sql("SELECT count(*) FROM territorio.features"),
        n.to_string()
    );
    assert_eq!(collection(&a).len(), n);
    assert_eq!(collection(&a), collection(&b));

    // An edit through A is served by B within 1 s, with the same ETag.
    let mut latencies = Vec::new();
    for round in 0..5 {
        let progress = 10 + round * 7;
        let title = format!("Replica A, giro {round}");
        let r = patch(
            &a,
            "P001",
            json!({"progress_pct": progress, "title": title}),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let tag = r.header("etag").expect("an ETag").to_string();
        let seen = within(Duration::from_secs(1), || {
            let f = feature(&b, "P001");
            f.status == 200
                && f.json()["properties"]["title"] == json!(title)
                && f.header("etag") == Some(tag.as_str())
        });
        let seen = seen.unwrap_or_else(|| {
            panic!(
                "round {round}: B did not serve A's edit within 1 s\nB's log:\n{}",
                b.log()
            )
        });
        latencies.push(seen);
        assert_eq!(
            feature(&b, "P001").json()["properties"]["progress_pct"],
            json!(progress)
        );
    }
    eprintln!("A's edit served by B after {latencies:?}");
    // And the other way: a new project made through B is served by A.
    let r = create(&b, "Nuovo progetto da B");
    assert_eq!(r.status, 201, "{}", r.text());
    let made = r.json()["id"].as_str().unwrap().to_string();
    assert!(
        within(Duration::from_secs(1), || feature(&a, &made).status == 200).is_some(),
        "A serves {made} within 1 s"
    );

    // New ids made on both replicas at once never collide.
    let ids: Vec<(u16, String)> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for (k, server) in [&a, &b, &a, &b].into_iter().enumerate() {
            handles.push(scope.spawn(move || {
                (0..5)
                    .map(|i| {
                        let r = create(server, &format!("Concorrente {k}-{i}"));
                        let id = if r.status == 201 {
                            r.json()["id"].as_str().unwrap().to_string()
                        } else {
                            r.text()
                        };
                        (r.status, id)
                    })
                    .collect::<Vec<_>>()
            }));
        }
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(ids.iter().all(|(s, _)| *s == 201), "{ids:?}");
    let distinct: BTreeSet<&String> = ids.iter().map(|(_, id)| id).collect();
    assert_eq!(distinct.len(), 20, "{ids:?}");
    assert_eq!(
        s.sql("SELECT count(*) FROM territorio.features"),
        (n + 21).to_string()
    );

    // The same revision edited through both replicas at once: one 200, one 412.
    for id in ["P002", "P003", "P004"] {
        let tag = feature(&a, id).header("etag").unwrap().to_string();
        assert!(
            within(Duration::from_secs(1), || feature(&b, id).header("etag")
                == Some(tag.as_str()))
            .is_some(),
            "B serves the same revision of {id}"
        );
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let ha = scope.spawn(|| patch(&a, id, json!({"progress_pct": 41}), Some(&tag)).status);
            let hb = scope.spawn(|| patch(&b, id, json!({"progress_pct": 42}), Some(&tag)).status);
            let mut st = vec![ha.join().unwrap(), hb.join().unwrap()];
            st.sort();
            st
        });
        assert_eq!(statuses, vec![200, 412], "{id}");
        // The database holds the one that won, and both replicas serve it.
        let stored = s.sql(&format!(
            "SELECT properties->>'progress_pct' FROM territorio.features WHERE id = '\"{id}\"'"
        ));
        assert!(stored == "41" || stored == "42", "{stored}");
        for server in [&a, &b] {
            let want = json!(stored.parse::<i64>().unwrap());
            assert!(within(Duration::from_secs(1), || {
                feature(server, id).json()["properties"]["progress_pct"] == want
            })
            .is_some());
        }
    }

    // The key cases of the HTTP edit tests, with this store.
    let current = feature(&b, "P005");
    let tag = current.header("etag").unwrap().to_string();
    let r = patch(&b, "P005", json!({"progress_pct": 150}), Some(&tag));
    assert_eq!(r.status, 422, "a rule broken: {}", r.text());
    assert!(r.text().contains("progress_pct"), "{}", r.text());
    let r = patch(
        &b,
        "P005",
        json!({"progress_pct": 5}),
        Some("\"not-the-tag\""),
    );
    assert_eq!(r.status, 412, "{}", r.text());
    let r = b.call(
        "PATCH",
        "/collections/projects/items/P005",
        &[("content-type", "application/merge-patch+json")],
        Some(br#"{"properties": {"progress_pct": 5}}"#),
    );
    assert_eq!(r.status, 401, "no credentials: {}", r.text());
    assert_eq!(feature(&a, "P005").header("etag"), Some(tag.as_str()));
    let auth = auth();
    let r = a.call(
        "DELETE",
        "/collections/projects/items/P005",
        &[("authorization", &auth), ("if-match", &tag)],
        None,
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(within(Duration::from_secs(1), || feature(&b, "P005").status == 404).is_some());
    assert_eq!(
        s.sql("SELECT count(*) FROM territorio.features WHERE id = '\"P005\"'"),
        "0"
    );
    // A deleted id is never given again, whichever replica makes the next project.
    let r = create(&b, "Dopo la cancellazione");
    assert_ne!(r.json()["id"], json!("P005"));

    // B killed; edits through A meanwhile; B started again serves exactly them.
    let mut b = b;
    b.kill();
    let mut made_meanwhile = Vec::new();
    for i in 0..10 {
        let id = format!("P{:03}", 6 + i);
        let r = patch(
            &a,
            &id,
            json!({"title": format!("Mentre B era fermo {i}")}),
            None,
        );
        assert_eq!(r.status, 200, "{id}: {}", r.text());
    }
    for i in 0..2 {
        let r = create(&a, &format!("Creato mentre B era fermo {i}"));
        assert_eq!(r.status, 201);
        made_meanwhile.push(r.json()["id"].as_str().unwrap().to_string());
    }
    let r = a.call(
        "DELETE",
        "/collections/projects/items/P016",
        &[("authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 204);
    let b = s.serve();
    let on_a = collection(&a);
    let on_b = collection(&b);
    assert_eq!(on_a, on_b, "B serves exactly what A serves");
    assert_eq!(
        on_b.len().to_string(),
        s.sql("SELECT count(*) FROM territorio.features")
    );
    for i in 0..10 {
        let id = format!("P{:03}", 6 + i);
        assert_eq!(
            on_b[&id].0["title"],
            json!(format!("Mentre B era fermo {i}"))
        );
        assert_eq!(
            feature(&a, &id).header("etag"),
            feature(&b, &id).header("etag")
        );
    }
    assert!(made_meanwhile.iter().all(|id| on_b.contains_key(id)));
    assert!(!on_b.contains_key("P016"));
    // A reload of B (SIGHUP) takes the stored state again, and B goes on following A.
    let hup = Command::new("kill")
        .args(["-HUP", &b.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    assert!(
        within(Duration::from_secs(30), || b.get_json("/health/ready")
            ["reloads"]["done"]
            == json!(1))
        .is_some(),
        "B reloaded\n{}",
        b.log()
    );
    assert_eq!(collection(&b), on_a);
    let r = patch(&a, "P017", json!({"title": "Dopo il reload di B"}), None);
    assert_eq!(r.status, 200);
    assert!(within(Duration::from_secs(1), || feature(&b, "P017").json()
        ["properties"]["title"]
        == json!("Dopo il reload di B"))
    .is_some());
    let r = patch(&b, "P018", json!({"title": "Da B dopo il reload"}), None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(within(Duration::from_secs(1), || feature(&a, "P018").json()
        ["properties"]["title"]
        == json!("Da B dopo il reload"))
    .is_some());
    // The history of a feature is the same through both, and lists the edits in order.
    let history = |server: &Server| {
        server.get_json("/collections/projects/items/P001/history?f=json&limit=10000")
    };
    let (ha, hb) = (history(&a), history(&b));
    assert_eq!(ha["changes"], hb["changes"]);
    let titles: Vec<&Json> = ha["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["user"] == json!(USER))
        .map(|c| &c["after"]["properties"]["title"])
        .collect();
    let sent: Vec<Json> = (0..5)
        .map(|r| json!(format!("Replica A, giro {r}")))
        .collect();
    assert_eq!(titles, sent.iter().collect::<Vec<_>>());
    // The change log follows on both (rebuilt at most once a second): one entry per change.
    let changes: u64 = s
        .sql("SELECT count(*) FROM territorio.changes WHERE layer = 'projects'")
        .parse()
        .unwrap();
    for server in [&a, &b] {
        let logged = within(Duration::from_secs(3), || {
            server.get_json("/collections/projects_changes/items?limit=1")["numberMatched"]
                == json!(changes)
        });
        assert!(logged.is_some(), "{} logs {changes} changes", server.addr);
    }
}

/// Sets the flag when dropped: the test's threads stop (and drop their handles on a server,
/// which kills it) however the test ends.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A history answer without the times of this test's changes (the same edits made at other
/// moments) and without its links (to another server).
fn without_times(mut history: Json) -> Json {
    for c in history["changes"].as_array_mut().unwrap() {
        if c["user"] == json!(USER) {
            c.as_object_mut().unwrap().remove("at");
        }
    }
    history.as_object_mut().unwrap().remove("links");
    history
}

#[test]
fn history_and_past_states_read_from_postgresql_as_from_sqlite() {
    let s = setup();
    let pg = s.serve();
    let lite = s.serve_sqlite();
    let auth = auth();
    for server in [&pg, &lite] {
        assert_eq!(
            patch(server, "P001", json!({"progress_pct": 64}), None).status,
            200
        );
        assert_eq!(
            patch(
                server,
                "P001",
                json!({"status": "completed", "progress_pct": 100}),
                None
            )
            .status,
            200
        );
        let r = create(server, "Storia a confronto");
        assert_eq!(r.status, 201);
        assert_eq!(r.json()["id"], json!("P151"), "{}", r.text());
        let r = server.call(
            "DELETE",
            "/collections/projects/items/P003",
            &[("authorization", &auth)],
            None,
        );
        assert_eq!(r.status, 204);
    }
    assert_eq!(collection(&pg), collection(&lite));
    for id in ["P001", "P151", "P003", "P010"] {
        let path = format!("/collections/projects/items/{id}/history?f=json&limit=10000");
        let (a, b) = (pg.get_json(&path), lite.get_json(&path));
        assert!(a["numberMatched"].as_u64().unwrap() >= 1, "{id}");
        assert_eq!(without_times(a), without_times(b), "history of {id}");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let now = territorio::time::rfc3339(now as i64);
    for at in ["2025-03-01", "2025-09-30", now.as_str()] {
        let path = format!("/indicators/monitoring?at={at}");
        let answer = |server: &Server| {
            let mut m = server.get_json(&path);
            // Links to one server or the other.
            m.as_object_mut().unwrap().remove("links");
            m
        };
        let (a, b) = (answer(&pg), answer(&lite));
        assert!(a["total"]["projects"].as_u64().unwrap() > 0, "{path}");
        assert_eq!(a, b, "{path}");
    }
}

#[test]
fn the_database_going_away_under_writes() {
    let s = setup();
    let a = Arc::new(s.serve());
    let b = s.serve();
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_anyway = StopOnDrop(stop.clone());
    let counter = Arc::new(AtomicUsize::new(0));
    // Acknowledged PATCHes: (feature, unique title), in the order each writer sent them.
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let created: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let refused: Arc<Mutex<Vec<String>>> = Arc::default();
    let unavailable = Arc::new(AtomicUsize::new(0));
    // The Retry-After of each 503 (none: "-").
    let retry_after: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (a, stop, counter) = (a.clone(), stop.clone(), counter.clone());
            let (acked, created, refused, unavailable, retry_after) = (
                acked.clone(),
                created.clone(),
                refused.clone(),
                unavailable.clone(),
                retry_after.clone(),
            );
            std::thread::spawn(move || {
                // Each writer owns its features: the last acknowledged title of each is known.
                let mine: Vec<String> = (0..5).map(|i| format!("P{:03}", 1 + w * 5 + i)).collect();
                let auth = auth();
                while !stop.load(Ordering::SeqCst) {
                    let k = counter.fetch_add(1, Ordering::SeqCst);
                    let title = format!("Scrittura {k}");
                    let (reply, what) = if k % 7 == 0 {
                        let r = process::request(
                            &a.addr,
                            "POST",
                            "/collections/projects/items",
                            &[
                                ("authorization", &auth),
                                ("content-type", "application/geo+json"),
                            ],
                            Some(&create_body(&title, 9.95, 45.25)),
                        );
                        (r, None)
                    } else {
                        let id = mine[k % mine.len()].clone();
                        let body = json!({"properties": {"title": title}}).to_string();
                        let r = process::request(
                            &a.addr,
                            "PATCH",
                            &format!("/collections/projects/items/{id}"),
                            &[
                                ("authorization", &auth),
                                ("content-type", "application/merge-patch+json"),
                            ],
                            Some(body.as_bytes()),
                        );
                        (r, Some(id))
                    };
                    let reply = reply.expect("the replica answers every write");
                    match (reply.status, what) {
                        (200, Some(id)) => acked.lock().unwrap().push((id, title)),
                        (201, None) => created
                            .lock()
                            .unwrap()
                            .push((reply.json()["id"].as_str().unwrap().to_string(), title)),
                        (503, _) => {
                            unavailable.fetch_add(1, Ordering::SeqCst);
                            retry_after
                                .lock()
                                .unwrap()
                                .insert(reply.header("retry-after").unwrap_or("-").to_string());
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        (status, _) => refused
                            .lock()
                            .unwrap()
                            .push(format!("{status} {}", reply.text())),
                    }
                }
            })
        })
        .collect();
    let read_failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (a, stop, failures, reads) = (
            a.clone(),
            stop.clone(),
            read_failures.clone(),
            reads.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                for path in [
                    "/collections/projects/items?limit=5",
                    "/collections/projects/items/P020",
                    "/collections/municipalities/items?limit=1",
                ] {
                    match process::request(&a.addr, "GET", path, &[], None) {
                        Ok(r) if r.status == 200 => {
                            reads.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(r) => failures.lock().unwrap().push(format!(
                            "{path}: {} {}",
                            r.status,
                            r.text()
                        )),
                        Err(e) => failures.lock().unwrap().push(format!("{path}: {e}")),
                    }
                }
            }
        })
    };
    let acked_len = || acked.lock().unwrap().len() + created.lock().unwrap().len();
    assert!(
        within(Duration::from_secs(10), || acked_len() >= 30).is_some(),
        "writes go through before the outage"
    );
    s.cluster.stop_immediately();
    let down_at = acked_len();
    let before_503 = unavailable.load(Ordering::SeqCst);
    assert!(
        within(Duration::from_secs(10), || unavailable
            .load(Ordering::SeqCst)
            >= before_503 + 5)
        .is_some(),
        "writes during the outage are answered 503"
    );
    // The health endpoint names the database and says the server is degraded.
    let health = a.call("GET", "/health/ready", &[], None);
    assert_eq!(health.status, 200, "reads go on: {}", health.text());
    let health = health.json();
    assert_eq!(health["status"], json!("degraded"), "{health}");
    assert_eq!(health["edits"]["database"]["reachable"], json!(false));
    assert!(
        health["edits"]["database"]["name"]
            .as_str()
            .unwrap()
            .contains("dbname=ptcp"),
        "{health}"
    );
    // The history is read from the database when asked: a 503 answered at once (the database
    // may answer later), not a hang, and the answer does not name the database.
    let started = Instant::now();
    let history = a.call(
        "GET",
        "/collections/projects/items/P001/history?f=json",
        &[],
        None,
    );
    eprintln!(
        "history during the outage: {} after {:?}",
        history.status,
        started.elapsed()
    );
    assert_eq!(history.status, 503, "{}", history.text());
    // The writer reconnects at most every 0.5 s: come back after a second.
    assert_eq!(
        history.header("retry-after"),
        Some("1"),
        "{:?}",
        history.headers
    );
    // So is the past (`?at=`), read from the database when asked.
    let past = a.call("GET", "/indicators/monitoring?at=2025-03-01", &[], None);
    assert_eq!(past.status, 503, "{}", past.text());
    assert_eq!(past.header("retry-after"), Some("1"), "{:?}", past.headers);
    assert_eq!(
        past.header("content-type"),
        Some("application/problem+json")
    );
    assert!(
        !history.text().contains("host=") && !history.text().contains("dbname"),
        "{}",
        history.text()
    );
    std::thread::sleep(Duration::from_millis(500));
    s.cluster.start_again();
    // Writes go through again once the replica has reconnected.
    let back = within(Duration::from_secs(15), || acked_len() >= down_at + 30);
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    reader.join().unwrap();
    assert!(
        back.is_some(),
        "writes went through again after the restart\nA's log:\n{}",
        a.log()
    );
    eprintln!(
        "{} writes acknowledged, {} answered 503, {} reads; writes back {:?} after the restart",
        acked_len(),
        unavailable.load(Ordering::SeqCst),
        reads.load(Ordering::SeqCst),
        back
    );
    assert!(
        read_failures.lock().unwrap().is_empty(),
        "reads failed: {:?}",
        read_failures.lock().unwrap()
    );
    assert!(
        refused.lock().unwrap().is_empty(),
        "writes answered other than 2xx or 503: {:?}",
        refused.lock().unwrap()
    );
    // Every 503 said when to try again: after the writer's next attempt to reconnect.
    assert_eq!(
        *retry_after.lock().unwrap(),
        BTreeSet::from(["1".to_string()]),
        "the Retry-After of the writes answered 503"
    );
    let health = a.get_json("/health/ready");
    assert_eq!(health["status"], json!("ready"), "{health}");

    // Every acknowledged edit is in the database, in the order it was acknowledged.
    let stored: Vec<(String, String)> = s
        .sql(
            "SELECT feature, after_properties->>'title' FROM territorio.changes \
             WHERE username = 'anna' ORDER BY seq",
        )
        .lines()
        .map(|l| {
            let (id, title) = l.split_once('|').unwrap();
            (id.trim_matches('"').to_string(), title.to_string())
        })
        .collect();
    let acked = acked.lock().unwrap().clone();
    let created = created.lock().unwrap().clone();
    for (id, title) in acked.iter().chain(&created) {
        assert!(
            stored.contains(&(id.clone(), title.clone())),
            "acknowledged edit of {id} ({title}) not in the database"
        );
    }
    // The last acknowledged title of each feature is its title in the database, unless a
    // later write whose answer was a 503 still made it (then it is a later one of the same
    // writer): a title never goes back.
    let number = |t: &str| t.trim_start_matches("Scrittura ").parse::<usize>().unwrap();
    let mut last: BTreeMap<&str, &str> = BTreeMap::new();
    for (id, title) in &acked {
        last.insert(id, title);
    }
    for (id, title) in &last {
        let now = s.sql(&format!(
            "SELECT properties->>'title' FROM territorio.features WHERE id = '\"{id}\"'"
        ));
        assert!(number(&now) >= number(title), "{id}: {now} after {title}");
    }
    // Both replicas serve what the database holds.
    let in_database: BTreeMap<String, String> = s
        .sql("SELECT id, properties->>'title' FROM territorio.features")
        .lines()
        .map(|l| {
            let (id, title) = l.split_once('|').unwrap();
            (id.trim_matches('"').to_string(), title.to_string())
        })
        .collect();
    for server in [&*a, &b] {
        let same = within(Duration::from_secs(10), || {
            let served: BTreeMap<String, String> = collection(server)
                .into_iter()
                .map(|(id, (p, _))| (id, p["title"].as_str().unwrap().to_string()))
                .collect();
            served == in_database
        });
        assert!(
            same.is_some(),
            "{} serves what the database holds\n{}",
            server.addr,
            server.log()
        );
    }
}

/// nginx in the foreground, one process (no workers to leave behind), on a free local port,
/// balancing round robin between `upstreams`; killed when dropped.
struct Nginx {
    child: std::process::Child,
    addr: String,
    dir: tempfile::TempDir,
}

impl Nginx {
    fn start(upstreams: &[&str]) -> Nginx {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("nginx is installed by scripts/test (scripts/install-deps nginx)");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.path().display();
        let servers: String = upstreams
            .iter()
            .map(|u| format!("    server {u} max_fails=1 fail_timeout=10s;\n"))
            .collect();
        let conf = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             upstream territorio {{\n{servers}  }}\n\
             server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
             proxy_pass http://territorio;\n      proxy_set_header Host $host;\n\
             proxy_connect_timeout 2s;\n      proxy_next_upstream error timeout;\n    }}\n  }}\n}}\n"
        );
        let file = dir.path().join("nginx.conf");
        std::fs::write(&file, conf).unwrap();
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nginx runs");
        let nginx = Nginx {
            child,
            addr: format!("127.0.0.1:{port}"),
            dir,
        };
        let up = within(Duration::from_secs(10), || {
            process::request(&nginx.addr, "GET", "/health", &[], None)
                .is_ok_and(|r| r.status == 200)
        });
        assert!(up.is_some(), "nginx did not start: {}", nginx.log());
        nginx
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn nginx_in_front_of_two_replicas_keeps_answering_when_one_is_killed() {
    let s = setup();
    let a = s.serve();
    // A free port for B, kept for its restart.
    let b_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let mut b = s.serve_at(&b_addr);
    let nginx = Nginx::start(&[&a.addr, &b_addr]);
    let auth = auth();
    let get = |path: &str| {
        process::request(
            &nginx.addr,
            "GET",
            path,
            &[("accept", "application/geo+json")],
            None,
        )
        .unwrap_or_else(|e| panic!("GET {path} through nginx: {e}"))
    };
    let patch_through = |id: &str, title: &str| {
        let body = json!({"properties": {"title": title}}).to_string();
        process::request(
            &nginx.addr,
            "PATCH",
            &format!("/collections/projects/items/{id}"),
            &[
                ("authorization", &auth),
                ("content-type", "application/merge-patch+json"),
            ],
            Some(body.as_bytes()),
        )
        .unwrap_or_else(|e| panic!("PATCH {id} through nginx: {e}"))
    };
    // An edit through nginx is read back through it, from either replica, within 1 s.
    let r = patch_through("P040", "Attraverso nginx");
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = within(Duration::from_secs(1), || {
        (0..4).all(|_| {
            get("/collections/projects/items/P040").json()["properties"]["title"]
                == json!("Attraverso nginx")
        })
    });
    assert!(seen.is_some(), "both replicas serve the edit");

    // B killed: every request through nginx is still answered, by A.
    b.kill();
    let mut titles = Vec::new();
    for i in 0..20 {
        let r = get("/collections/projects/items?limit=3");
        assert_eq!(r.status, 200, "read {i} after the kill: {}", r.text());
        let title = format!("Con B fermo {i}");
        let r = patch_through(&format!("P{:03}", 41 + i), &title);
        assert_eq!(
            r.status,
            200,
            "write {i} after the kill: {}\n{}",
            r.text(),
            nginx.log()
        );
        titles.push(title);
    }
    for (i, title) in titles.iter().enumerate() {
        let r = get(&format!("/collections/projects/items/P{:03}", 41 + i));
        assert_eq!(r.json()["properties"]["title"], json!(title));
    }
    // B started again at its address serves every edit made while it was away.
    let b = s.serve_at(&b_addr);
    for (i, title) in titles.iter().enumerate() {
        assert_eq!(
            feature(&b, &format!("P{:03}", 41 + i)).json()["properties"]["title"],
            json!(title)
        );
    }
    for i in 0..10 {
        let r = get("/collections/projects/items/P040");
        assert_eq!(r.status, 200, "read {i} after B is back");
    }
}

#[test]
fn edits_db_needs_accounts_and_refuses_a_password_in_the_connection_string() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = dir.path().join("accounts.toml");
    process::add_user(&accounts, USER, PASSWORD, &["projects"]);
    let run = |args: &[&str]| {
        let out = Command::new(process::binary())
            .args(["serve", "--catalog"])
            .arg(process::demo_catalog_file())
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("TERRITORIO_LOG", "warn")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let accounts = accounts.display().to_string();
    // Nothing listens there: each refusal comes before any connection.
    let dsn = format!("host={} dbname=ptcp", dir.path().display());
    let (ok, err) = run(&["--edits-db", &dsn]);
    assert!(!ok && err.contains("--accounts"), "{err}");
    let with_password = format!("{dsn} password=secret");
    let (ok, err) = run(&["--edits-db", &with_password, "--accounts", &accounts]);
    assert!(!ok && err.contains("password"), "{err}");
    assert!(
        !err.contains("secret"),
        "the password is not repeated: {err}"
    );
    let (ok, err) = run(&[
        "--edits-db",
        &dsn,
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--accounts",
        &accounts,
    ]);
    assert!(
        !ok && err.contains("--data-dir"),
        "one store or the other: {err}"
    );
    // A database that cannot be reached stops the start, naming it.
    let (ok, err) = run(&["--edits-db", &dsn, "--accounts", &accounts]);
    assert!(!ok && err.contains("dbname=ptcp"), "{err}");
}
