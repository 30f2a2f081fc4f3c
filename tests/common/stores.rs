//! The two stores of edits, so that one test body runs against each: the embedded SQLite store
//! in a fresh data folder (`territorio serve --data-dir`), and the PostgreSQL/PostGIS store in
//! a fresh database of the cluster the tests of one binary share (`territorio serve
//! --edits-db`, tests/common/pg.rs).
//!
//! A test is written once, as `async fn name(kind: Kind)`, and [`on_both_stores!`] makes its
//! two entry points, `name::sqlite` and `name::postgres` (`cargo test --test edits postgres`
//! runs the PostgreSQL half).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use territorio::api::{AppState, ServerConfig};
use territorio::store::Catalog;

use super::pg::Cluster;

/// Which store keeps the edits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A fresh, empty store of one kind, and a temporary folder for the test's other files
/// (accounts). The folder goes when this is dropped; a PostgreSQL database stays in the shared
/// cluster until the test process ends.
pub struct Edits {
    pub kind: Kind,
    dir: tempfile::TempDir,
    /// The connection string of the database (PostgreSQL only).
    dsn: Option<String>,
    /// The database's name (PostgreSQL only).
    database: Option<String>,
}

impl Edits {
    pub fn fresh(kind: Kind) -> Edits {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let database = match kind {
            Kind::Sqlite => None,
            Kind::Postgres => Some(Cluster::shared().fresh_database()),
        };
        Edits {
            kind,
            dir,
            dsn: database.as_deref().map(|db| Cluster::shared().dsn(db)),
            database,
        }
    }

    /// The temporary folder of the test's other files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The SQLite store's data folder (`--data-dir`).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The PostgreSQL store's connection string (`--edits-db`); `None` for SQLite.
    pub fn dsn(&self) -> Option<&str> {
        self.dsn.as_deref()
    }

    /// Runs SQL on the PostgreSQL store's database with psql; its output, unaligned.
    pub fn sql(&self, query: &str) -> String {
        let db = self.database.as_deref().expect("a PostgreSQL store");
        Cluster::shared().psql(db, query)
    }

    /// `territorio serve` on the demo with edits on in this store (`--data-dir` or
    /// `--edits-db`) and the accounts in `accounts`, on a free port.
    pub fn serve_command(&self, accounts: &Path) -> Command {
        let mut args = super::process::serve_args(&self.data_dir(), accounts);
        if let Some(dsn) = &self.dsn {
            let at = args
                .iter()
                .position(|a| a == "--data-dir")
                .expect("serve_args gives --data-dir");
            args[at] = "--edits-db".into();
            args[at + 1] = dsn.clone();
        }
        let mut cmd = Command::new(super::process::binary());
        cmd.args(args);
        cmd
    }

    /// A server state on `catalog` with edits on in this store, as `territorio serve` sets it
    /// up: the store opened (the editable layers it lacks imported, the stored state put in
    /// place of the source's), then edits started. Called again on the same store, it is a
    /// server restarted (or, with PostgreSQL, another replica).
    pub fn serve(&self, catalog: Catalog, config: ServerConfig) -> AppState {
        match self.kind {
            Kind::Sqlite => {
                let data = self.data_dir();
                let (catalog, store) =
                    territorio::edit::open(catalog, &data).expect("the store opens");
                let state = AppState::new(Arc::new(catalog), config);
                state.start_editing(store, &data);
                state
            }
            Kind::Postgres => {
                let dsn = self.dsn.clone().expect("a database");
                let editable: Vec<String> = catalog
                    .layers()
                    .iter()
                    .filter(|l| l.config.is_editable())
                    .map(|l| l.id().to_string())
                    .collect();
                // The blocking PostgreSQL client runs a runtime of its own, which cannot start
                // on a thread of the test's runtime: the store is opened on a thread of its own,
                // as `territorio serve` opens it before its runtime starts.
                let (catalog, postgres) = std::thread::spawn(move || {
                    territorio::edit::replica::open_postgres(catalog, &dsn)
                        .map_err(|e| e.to_string())
                })
                .join()
                .expect("the opening thread")
                .expect("the store opens");
                // The editable layers are kept in the database, not in a file.
                let mut stored: Vec<String> = self
                    .sql("SELECT id FROM territorio.layers")
                    .lines()
                    .map(str::to_string)
                    .collect();
                stored.sort();
                let mut wanted = editable;
                wanted.sort();
                assert_eq!(stored, wanted, "the layers in the database");
                assert!(!self.data_dir().exists(), "no SQLite store beside");
                let state = AppState::new(Arc::new(catalog), config);
                state.start_editing_postgres(postgres);
                state
            }
        }
    }
}

/// For each `async fn name(kind: Kind)` named, a module `name` with two tests, `sqlite` and
/// `postgres`, running it against each store; `on_both_stores!(blocking name)` does the same
/// for a `fn name(kind: Kind)` (a test driving server processes).
#[macro_export]
macro_rules! on_both_stores {
    (blocking $($test:ident),+ $(,)?) => {$(
        mod $test {
            #[test]
            fn sqlite() {
                super::$test($crate::common::stores::Kind::Sqlite)
            }
            #[test]
            fn postgres() {
                super::$test($crate::common::stores::Kind::Postgres)
            }
        }
    )+};
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn sqlite() {
                super::$test($crate::common::stores::Kind::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$test($crate::common::stores::Kind::Postgres).await
            }
        }
    )+};
}
