//! A throwaway PostgreSQL/PostGIS cluster for one test: Debian's PostgreSQL binaries, a data
//! folder of its own in a temporary directory, reachable only through a Unix socket in that
//! folder (no TCP port to collide with), stopped when the value is dropped, and by a watchdog
//! process if the test process dies without dropping it (`kill -9`).
//!
//! PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user that
//! Debian's package creates. Connections use `trust` authentication on the socket, as the
//! superuser `territorio`.
//!
//! Tests that need only a database of their own share one cluster per test binary
//! ([`Cluster::shared`], [`Cluster::fresh_database`]): starting a cluster takes about a second
//! and creating the PostGIS extension about as long, copying a template database a fraction
//! of that.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The port number names the socket file (`.s.PGSQL.<port>`); nothing listens on TCP.
const PORT: u16 = 5433;

/// The database [`Cluster::fresh_database`] copies: PostGIS installed, nobody connected.
const TEMPLATE: &str = "template_postgis";

pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

/// The folder of Debian's PostgreSQL server binaries (the newest installed major version).
fn server_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed by scripts/install-deps (postgresql, postgis)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found
        .pop()
        .expect("no /usr/lib/postgresql/<version>/bin/initdb: install postgresql")
}

fn is_root() -> bool {
    // SAFETY-free: the effective uid from /proc, to avoid a libc dependency.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// A command run as the server's owner: `postgres` when the tests run as root.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn run(mut cmd: Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Cluster {
    /// Creates and starts a cluster; panics with the server's log if it does not start.
    pub fn start() -> Cluster {
        let bin = server_bin();
        let dir = tempfile::Builder::new()
            .prefix("territorio-pg-")
            .tempdir()
            .expect("temporary folder");
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["postgres:postgres"]).arg(dir.path());
                    c
                },
                "chown of the cluster folder",
            );
        }
        let data = dir.path().join("data");
        let mut initdb = as_owner(&bin.join("initdb"));
        initdb.args(["-D"]).arg(&data).args([
            "-U",
            "territorio",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        run(initdb, "initdb");
        let cluster = Cluster { dir, bin };
        cluster.start_again();
        cluster.watchdog();
        cluster
    }

    /// Starts the server (again, after [`Cluster::stop_immediately`]: crash recovery runs),
    /// waiting until it accepts connections; panics with its log if it does not start.
    pub fn start_again(&self) {
        let options = format!(
            "-c listen_addresses='' -c port={PORT} -c unix_socket_directories='{}' \
             -c fsync=on -c max_connections=100",
            self.socket_dir().display()
        );
        let mut start = as_owner(&self.bin.join("pg_ctl"));
        start
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-l"])
            .arg(self.dir.path().join("server.log"))
            .args(["-o", &options, "-w", "-t", "60", "start"]);
        let out = start.output().expect("pg_ctl start");
        assert!(
            out.status.success(),
            "the test cluster did not start: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// The cluster shared by the tests of this test binary, started by the first that asks,
    /// with a template database holding PostGIS ([`Cluster::fresh_database`]). A static is
    /// never dropped: the watchdog stops the server and removes its folder once the test
    /// process has ended.
    pub fn shared() -> &'static Cluster {
        static SHARED: OnceLock<Cluster> = OnceLock::new();
        SHARED.get_or_init(|| {
            let cluster = Cluster::start();
            cluster.create_database(TEMPLATE, true);
            cluster
        })
    }

    /// A new database with PostGIS, copied from the shared cluster's template, under a name
    /// no other test of this process has; returns its name.
    pub fn fresh_database(&self) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        let db = format!("test_{}", NEXT.fetch_add(1, Ordering::SeqCst));
        self.psql(
            "postgres",
            &format!("CREATE DATABASE {db} TEMPLATE {TEMPLATE}"),
        );
        db
    }

    /// A detached shell that stops the server once this test process is gone, and removes
    /// the cluster's folder (a shared cluster's is not removed otherwise), so that a killed
    /// test leaves no server behind.
    fn watchdog(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let data = self.dir.path().join("data");
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             if [ -f '{data}/postmaster.pid' ]; then {runas}'{pg_ctl}' -D '{data}' -m immediate stop; fi; \
             rm -rf '{dir}'",
            pid = std::process::id(),
            data = data.display(),
            dir = self.dir.path().display(),
            pg_ctl = pg_ctl.display(),
            runas = if is_root() { "runuser -u postgres -- " } else { "" },
        );
        let _ = Command::new("setsid")
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    /// The folder holding the server's socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// A libpq connection string to database `db` (no password: trust on the socket).
    pub fn dsn(&self, db: &str) -> String {
        format!(
            "host={} port={PORT} dbname={db} user=territorio",
            self.socket_dir().display()
        )
    }

    /// The server's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Runs SQL with psql in database `db`, stopping at the first error; returns its output
    /// (unaligned, tuples only).
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.dsn(db))
            .args(["-c", sql])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Creates database `db`, with the PostGIS extension when `postgis`.
    pub fn create_database(&self, db: &str, postgis: bool) {
        self.psql("postgres", &format!("CREATE DATABASE {db}"));
        if postgis {
            self.psql(db, "CREATE EXTENSION postgis");
        }
    }

    /// Stops the server now (immediate shutdown: a crash, as far as the server knows).
    pub fn stop_immediately(&self) {
        let mut stop = as_owner(&self.bin.join("pg_ctl"));
        stop.arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = stop.output();
    }

    /// Waits until the server accepts connections again (after a restart).
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            let ok = Command::new(self.bin.join("pg_isready"))
                .arg("-h")
                .arg(self.socket_dir())
                .args(["-p", &PORT.to_string()])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_immediately();
    }
}
