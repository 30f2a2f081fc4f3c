//! Faults of the machine under the edits: a data folder or store file that refuses writes, a
//! database locked by another process, a full disk. In each, reads go on, a write is refused
//! with 503 and a problem document and changes nothing, and once the fault is gone writes
//! succeed again.
//!
//! Making a folder read-only for root takes more than `chmod` (root ignores permissions): a
//! read-only bind mount in a mount namespace of the test's own (`unshare -m`), entered by the
//! server with `nsenter`. A full disk is a small tmpfs mounted the same way. Where the machine
//! does not allow these (no `unshare`, no right to mount), the test prints why and skips.

mod common;

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{json, Value as Json};
use territorio::accounts::{Accounts, AccountsFile, HashCost};
use territorio::api::{app, App, AppState, ServerConfig};
use territorio::catalog::CatalogConfig;
use territorio::store::Catalog;

use common::http::{send, Answer};
use common::process::{self, Exited, Server};

const USER: &str = "anna";
const PASSWORD: &str = "a long editor password";

/// A mount namespace of the test's own, held open by a `cat` reading the test's pipe: what is
/// mounted in it is seen only by processes started in it, and goes when the holder ends (when
/// dropped, or when the test process dies and the pipe closes).
struct Namespace {
    holder: Child,
}

impl Namespace {
    /// A new namespace after `setup` (a shell command; `"$1"`, `"$2"`... are `args`) ran in it;
    /// `Err` says why this machine does not allow it.
    fn new(setup: &str, args: &[&Path]) -> Result<Namespace, String> {
        let script = format!("{setup} && echo ready && exec cat");
        let mut holder = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script, "sh"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run unshare: {e}"))?;
        let mut line = String::new();
        let _ = BufReader::new(holder.stdout.as_mut().unwrap()).read_line(&mut line);
        if line.trim() == "ready" {
            return Ok(Namespace { holder });
        }
        let _ = holder.kill();
        let out = holder.wait_with_output().map_err(|e| e.to_string())?;
        Err(format!(
            "unshare -m / mount not permitted here: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }

    /// `program args...` run inside the namespace.
    fn command(&self, program: &str, args: &[String]) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.holder.id().to_string(), "-m", "--", program])
            .args(args);
        cmd
    }

    /// A path inside the namespace, as the test (outside it) reaches it.
    fn outside(&self, path: &Path) -> PathBuf {
        let mut p = PathBuf::from(format!("/proc/{}/root", self.holder.id()));
        p.push(path.strip_prefix("/").unwrap_or(path));
        p
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// A folder made read-only with what is in it, for whoever runs the test: `chmod` when that
/// stops this user, else (root) a read-only bind mount in a namespace of its own.
enum ReadOnlyFolder {
    Chmod(PathBuf),
    Mount(Namespace),
}

/// Sets the mode of `dir` and of the files in it.
fn chmod_all(dir: &Path, dir_mode: u32, file_mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(file_mode)).unwrap();
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(dir_mode)).unwrap();
}

impl ReadOnlyFolder {
    fn new(dir: &Path) -> Result<ReadOnlyFolder, String> {
        chmod_all(dir, 0o555, 0o444);
        if std::fs::File::create(dir.join(".probe")).is_err() {
            return Ok(ReadOnlyFolder::Chmod(dir.to_path_buf()));
        }
        // Root: permissions do not stop it.
        let _ = std::fs::remove_file(dir.join(".probe"));
        chmod_all(dir, 0o755, 0o644);
        Namespace::new(
            r#"mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && ! touch "$1/.probe" 2>/dev/null"#,
            &[dir],
        )
        .map(ReadOnlyFolder::Mount)
    }

    /// `territorio serve` seeing the folder read-only.
    fn serve(&self, data: &Path, accounts: &Path) -> Command {
        match self {
            ReadOnlyFolder::Chmod(_) => process::serve_command(data, accounts),
            ReadOnlyFolder::Mount(ns) => {
                ns.command(process::binary(), &process::serve_args(data, accounts))
            }
        }
    }
}

impl Drop for ReadOnlyFolder {
    fn drop(&mut self) {
        if let ReadOnlyFolder::Chmod(dir) = self {
            chmod_all(dir, 0o755, 0o644);
        }
    }
}

fn auth() -> String {
    process::basic(USER, PASSWORD)
}

fn patch_progress(server: &Server, id: &str, pct: u32) -> process::Reply {
    let auth = auth();
    server.call(
        "PATCH",
        &format!("/collections/projects/items/{id}"),
        &[
            ("authorization", &auth),
            ("content-type", "application/merge-patch+json"),
        ],
        Some(
            json!({"properties": {"progress_pct": pct}})
                .to_string()
                .as_bytes(),
        ),
    )
}

fn create(server: &Server, title: &str) -> process::Reply {
    let auth = auth();
    let body = json!({"type": "Feature",
        "geometry": {"type": "Point", "coordinates": [9.9, 45.2]},
        "properties": {"title": title, "axis": 2, "status": "proposed", "progress_pct": 0}});
    server.call(
        "POST",
        "/collections/projects/items",
        &[
            ("authorization", &auth),
            ("content-type", "application/geo+json"),
        ],
        Some(body.to_string().as_bytes()),
    )
}

fn progress(server: &Server, id: &str) -> Json {
    server.get_json(&format!("/collections/projects/items/{id}"))["properties"]["progress_pct"]
        .clone()
}

fn count(server: &Server) -> u64 {
    server.get_json("/collections/projects/items?limit=1")["numberMatched"]
        .as_u64()
        .unwrap()
}

/// A 503 problem document that says the edit was not stored, and to try again in a second.
fn assert_refused_503(r: &process::Reply, what: &str) {
    assert_eq!(r.status, 503, "{what}: {}", r.text());
    assert_eq!(r.header("retry-after"), Some("1"), "{what}");
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{what}"
    );
    assert!(
        r.text().contains("nothing was changed"),
        "{what}: {}",
        r.text()
    );
}

/// A data folder with accounts beside it, and a store made by a first server that took one
/// edit (P001's progress set to 42) and was then killed.
fn store_with_one_edit() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let accounts = dir.path().join("accounts.toml");
    process::add_user(&accounts, USER, PASSWORD, &["projects"]);
    let mut first = Server::start(process::serve_command(&data, &accounts)).unwrap();
    assert_eq!(patch_progress(&first, "P001", 42).status, 200);
    first.kill();
    (dir, data, accounts)
}

/// Checks a server whose data folder refuses writes: it serves the stored state (P001 at 42),
/// with its history, and refuses every write with 503.
fn check_read_only_server(server: &Server, what: &str) {
    assert_eq!(
        progress(server, "P001"),
        json!(42),
        "{what}: the stored state"
    );
    assert_eq!(count(server), 150, "{what}");
    let h = server.get_json("/collections/projects/items/P001/history?f=json");
    let last = h["changes"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["after"]["properties"]["progress_pct"], 42, "{what}");
    assert_refused_503(&patch_progress(server, "P001", 43), what);
    assert_refused_503(&create(server, "Mai salvato"), what);
    assert_eq!(
        progress(server, "P001"),
        json!(42),
        "{what}: nothing changed"
    );
    assert_eq!(count(server), 150, "{what}");
    // Readiness says the store refuses writes (a load balancer may send edits elsewhere).
    let ready = server.call("GET", "/health/ready", &[], None);
    assert_eq!(
        ready.status,
        503,
        "{what}: {}\n{}",
        ready.text(),
        server.log()
    );
    assert_eq!(
        ready.json()["edits"]["storeWritable"],
        false,
        "{what}: {}\n{}",
        ready.text(),
        server.log()
    );
    assert!(
        server.log().contains("the store is read-only"),
        "{what}: the log says why: {}",
        server.log()
    );
}

#[test]
fn a_store_in_a_read_only_folder_is_served_and_writes_get_503() {
    let (_dir, data, accounts) = store_with_one_edit();
    // Killed: its write-ahead log (and shared memory) are left beside the database.
    let mut wal = data.join("territorio.sqlite").into_os_string();
    wal.push("-wal");
    assert!(Path::new(&wal).exists(), "a crash leaves the log");
    let folder = match ReadOnlyFolder::new(&data) {
        Ok(f) => f,
        Err(why) => {
            eprintln!("skipped: cannot make a read-only folder on this machine: {why}");
            return;
        }
    };
    let server = Server::start(folder.serve(&data, &accounts))
        .unwrap_or_else(|e| panic!("a read-only folder must not stop the server: {e:?}"));
    check_read_only_server(&server, "after a crash");
    drop(server);
    drop(folder);

    // Closed cleanly (the log folded into the database and removed), then read-only.
    let conn = rusqlite::Connection::open(data.join("territorio.sqlite")).unwrap();
    conn.query_row("SELECT count(*) FROM features", [], |r| r.get::<_, i64>(0))
        .unwrap();
    drop(conn);
    assert!(!Path::new(&wal).exists(), "a clean close removes the log");
    let folder = ReadOnlyFolder::new(&data).unwrap();
    let server = Server::start(folder.serve(&data, &accounts))
        .unwrap_or_else(|e| panic!("a read-only folder must not stop the server: {e:?}"));
    check_read_only_server(&server, "after a clean stop");
    drop(server);
    drop(folder);

    // Writable again: a restarted server takes the edit.
    let server = Server::start(process::serve_command(&data, &accounts)).unwrap();
    assert_eq!(patch_progress(&server, "P001", 43).status, 200);
    assert_eq!(progress(&server, "P001"), json!(43));
}

#[test]
fn an_empty_read_only_folder_stops_the_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let accounts = dir.path().join("accounts.toml");
    process::add_user(&accounts, USER, PASSWORD, &["projects"]);
    let folder = match ReadOnlyFolder::new(&data) {
        Ok(f) => f,
        Err(why) => {
            eprintln!("skipped: cannot make a read-only folder on this machine: {why}");
            return;
        }
    };
    // No store to serve from: the server stops at once, naming the folder and the reason.
    let Err(Exited { code, stderr }) = Server::start(folder.serve(&data, &accounts)) else {
        panic!("the server started without a store it can create");
    };
    assert_eq!(code, Some(2), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("territorio: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(
        line.contains(&format!("data folder {}", data.display())),
        "{line}"
    );
    assert!(
        line.contains("cannot create the store territorio.sqlite"),
        "{line}"
    );
    assert!(
        line.contains("Read-only file system") || line.contains("Permission denied"),
        "{line}"
    );
}

/// A file made read-only for whoever runs the test: `chmod 444`, or (root, `true`)
/// `chattr +i`.
struct ReadOnlyFile(PathBuf, bool);

impl ReadOnlyFile {
    fn new(file: &Path) -> Result<ReadOnlyFile, String> {
        use std::os::unix::fs::PermissionsExt;
        let writable = || std::fs::OpenOptions::new().write(true).open(file).is_ok();
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o444)).unwrap();
        if !writable() {
            return Ok(ReadOnlyFile(file.to_path_buf(), false));
        }
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = Command::new("chattr")
            .arg("+i")
            .arg(file)
            .output()
            .map_err(|e| format!("cannot run chattr: {e}"))?;
        if !out.status.success() || writable() {
            return Err(format!(
                "chattr +i failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(ReadOnlyFile(file.to_path_buf(), true))
    }
}

impl Drop for ReadOnlyFile {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.1 {
            let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
        } else {
            let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o644));
        }
    }
}

#[test]
fn a_read_only_store_file_is_served_and_writes_get_503() {
    let (_dir, data, accounts) = store_with_one_edit();
    let file = data.join("territorio.sqlite");
    let guard = match ReadOnlyFile::new(&file) {
        Ok(g) => g,
        Err(why) => {
            eprintln!("skipped: cannot make a read-only file on this machine: {why}");
            return;
        }
    };
    let server = Server::start(process::serve_command(&data, &accounts))
        .unwrap_or_else(|e| panic!("a read-only store must not stop the server: {e:?}"));
    check_read_only_server(&server, "read-only store file");
    drop(server);
    drop(guard);
    let server = Server::start(process::serve_command(&data, &accounts)).unwrap();
    assert_eq!(patch_progress(&server, "P001", 43).status, 200);
}

/// The demo served in process with edits on, its store in `dir/data`.
fn in_process(dir: &Path) -> App {
    let config = CatalogConfig::from_file(&process::demo_catalog_file()).unwrap();
    let catalog = Catalog::load(config, &|_| {}).unwrap();
    let data = dir.join("data");
    let (catalog, store) = territorio::edit::open(catalog, &data).expect("the store opens");
    let accounts = dir.join("accounts.toml");
    let mut file = AccountsFile::read_or_new(&accounts).unwrap();
    file.add_user(USER, PASSWORD, &["projects".into()], HashCost::MINIMAL)
        .unwrap();
    file.save().unwrap();
    let state = AppState::new(Arc::new(catalog), ServerConfig::default());
    state.start_editing(store, &data);
    state.set_accounts(Accounts::open(&accounts).unwrap());
    app(state)
}

async fn call(app: &App, method: Method, uri: &str, body: Option<Json>) -> Answer {
    let mut req = Request::builder().method(method.clone()).uri(uri);
    if method != Method::GET {
        let content_type = if method == Method::PATCH {
            "application/merge-patch+json"
        } else {
            "application/geo+json"
        };
        req = req
            .header("authorization", auth())
            .header("content-type", content_type);
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    send(app.clone(), req.body(body).unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_gets_503_after_the_busy_timeout_and_a_retry_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let app = in_process(dir.path());
    let uri = "/collections/projects/items/P001";
    let before = call(&app, Method::GET, uri, None).await.json();
    let new_project = json!({"type": "Feature",
        "geometry": {"type": "Point", "coordinates": [9.9, 45.2]},
        "properties": {"title": "In attesa", "axis": 2, "status": "proposed", "progress_pct": 0}});

    // Another process (here another connection) holds the write lock.
    let other = rusqlite::Connection::open(dir.path().join("data/territorio.sqlite")).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let started = Instant::now();
    let waiting = {
        let app = app.clone();
        tokio::spawn(async move {
            call(
                &app,
                Method::PATCH,
                uri,
                Some(json!({"properties": {"progress_pct": 77}})),
            )
            .await
        })
    };
    // Reads go on while the write waits for the lock.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let read = call(&app, Method::GET, uri, None).await;
    assert_eq!(read.status, 200);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "reads are not held up"
    );
    let refused = waiting.await.unwrap();
    let waited = started.elapsed();
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(refused.content_type(), "application/problem+json");
    assert_eq!(refused.header("retry-after"), "1");
    assert!(
        waited >= Duration::from_millis(1900),
        "answered after the busy timeout (2 s), not {waited:?}"
    );
    let refused = call(
        &app,
        Method::POST,
        "/collections/projects/items",
        Some(new_project.clone()),
    )
    .await;
    assert_eq!(refused.status, 503, "{}", refused.text());
    let now = call(&app, Method::GET, uri, None).await;
    assert_eq!(now.body, read.body, "nothing changed");
    assert_eq!(now.json()["properties"], before["properties"]);

    // Released: the same writes succeed, and the new feature gets the id the refused one was
    // to get (nothing was stored under it).
    other.execute_batch("ROLLBACK").unwrap();
    let retried = call(
        &app,
        Method::PATCH,
        uri,
        Some(json!({"properties": {"progress_pct": 77}})),
    )
    .await;
    assert_eq!(retried.status, 200, "{}", retried.text());
    assert_eq!(
        call(&app, Method::GET, uri, None).await.json()["properties"]["progress_pct"],
        77
    );
    let created = call(
        &app,
        Method::POST,
        "/collections/projects/items",
        Some(new_project),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["id"], "P151");
    // The history has the update once: the refused one left nothing.
    let h = call(&app, Method::GET, &format!("{uri}/history?f=json"), None)
        .await
        .json();
    let updates: Vec<&Json> = h["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["user"] == USER)
        .collect();
    assert_eq!(updates.len(), 1, "{h}");
    assert_eq!(updates[0]["after"]["properties"]["progress_pct"], 77);
}

#[test]
fn a_full_disk_gets_503_reads_go_on_and_acknowledged_edits_survive() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let accounts = dir.path().join("accounts.toml");
    process::add_user(&accounts, USER, PASSWORD, &["projects"]);
    // A 16 MB disk of its own, seen only by the servers started in the namespace.
    let ns = match Namespace::new(r#"mount -t tmpfs -o size=16m tmpfs "$1""#, &[&disk]) {
        Ok(ns) => ns,
        Err(why) => {
            eprintln!("skipped: cannot mount a small tmpfs on this machine: {why}");
            return;
        }
    };
    let data = disk.join("data");
    let start = || {
        Server::start(ns.command(process::binary(), &process::serve_args(&data, &accounts)))
            .unwrap_or_else(|e| panic!("the server did not start: {e:?}"))
    };
    let mut server = start();
    assert_eq!(patch_progress(&server, "P001", 42).status, 200);

    // Fill the disk.
    let filler = ns.outside(&disk.join("filler"));
    let mut f = std::fs::File::create(&filler).unwrap();
    for chunk in [1 << 20, 4096, 1] {
        let block = vec![0u8; chunk];
        while f.write_all(&block).is_ok() {}
    }
    drop(f);

    // Large new projects until the store needs space it cannot have.
    let big = "x".repeat(100_000);
    let mut acked = Vec::new();
    let mut refused = None;
    for n in 0..60 {
        let title = format!("Progetto {n} {big}");
        let r = create(&server, &title);
        match r.status {
            201 => acked.push(r.json()["id"].as_str().unwrap().to_string()),
            _ => {
                assert_refused_503(&r, "a create on a full disk");
                refused = Some(title);
                break;
            }
        }
    }
    let refused = refused.expect("a full disk refuses a write within 60 creates of 100 kB");
    // Reads go on, and nothing of the refused write shows.
    assert_eq!(count(&server), 150 + acked.len() as u64);
    assert_eq!(progress(&server, "P001"), json!(42));
    let h = server.get_json("/collections/projects/items/P001/history?f=json");
    assert!(!h["changes"].as_array().unwrap().is_empty());

    // Space again: the same write succeeds.
    std::fs::remove_file(&filler).unwrap();
    let r = create(&server, &refused);
    assert_eq!(r.status, 201, "{}", r.text());
    acked.push(r.json()["id"].as_str().unwrap().to_string());

    // And after kill -9, every acknowledged write is there, the refused attempt only once.
    server.kill();
    let server = start();
    assert_eq!(count(&server), 150 + acked.len() as u64);
    assert_eq!(progress(&server, "P001"), json!(42));
    for id in &acked {
        let f = server.get_json(&format!("/collections/projects/items/{id}"));
        assert!(f["properties"]["title"]
            .as_str()
            .unwrap()
            .starts_with("Progetto"));
    }
    eprintln!(
        "full disk: {} new projects of 100 kB stored before the first 503; the refused one \
         stored once space was back",
        acked.len() - 1
    );
}
