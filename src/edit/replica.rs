//! Edits kept in PostgreSQL ([`super::pg`]), by several servers (replicas) over one database.
//!
//! Each server holds every editable layer in memory, as with the SQLite store, and keeps it
//! equal to the database:
//! - **Its own edits.** The writer thread commits each batch inside
//!   [`PgStore::commit`](super::pg::PgStore::commit): with the database's write lock held, it
//!   first applies the changes other servers committed since the last one it applied (the
//!   *missed* changes), then checks the batch against that state (the feature exists,
//!   `If-Match` names its current revision, the rules, new ids above every id any server ever
//!   gave), and writes the changes that pass. So two servers editing the same revision of a
//!   feature cannot both succeed: the second one's check sees the first one's change and
//!   answers 412. Replies go out after the commit.
//! - **The others' edits.** A listener thread per server ([`listen`]) holds a connection of
//!   its own with `LISTEN territorio_changes`; each notification of a commit newer than the
//!   last change applied (every commit notifies with its last `seq`; this server's own are not
//!   newer), every [`SAFETY_NET`] without one, and each reconnection asks the writer to read
//!   the changes after the last one it applied ([`PgStore::changes_since`], one
//!   snapshot) and apply them. Since commits are serialised by the lock, `seq` grows in commit
//!   order, and "every change after n" misses nothing; the last applied `seq` moves only once
//!   the whole set is applied.
//! - **At start and reload** ([`Postgres::prepare`]) the server takes the write lock for its
//!   session while it imports the layers the database lacks (once: a server starting at the
//!   same moment waits, then finds them) and reads every layer and the last `seq`: one
//!   consistent state, the start of the above.
//!
//! **The database away.** Reads answer from memory throughout. Writes fail fast with a
//! transient storage error (the API's 503): the writer tries to reconnect at most every
//! [`RETRY`], the listener with a backoff from 100 ms to 5 s; the writable flag (readiness)
//! stays down until a transaction or a read of changes goes through again. Once back, the
//! listener's reconnection makes the writer catch up.
//!
//! Cost: a batch of edits takes about nine round trips to the database whatever its size
//! (begin, lock, the read of the missed changes, an index range on `seq`; the writes from
//! arrays, the notification, the commit and its WAL flush), all with the lock held, plus the
//! checks and the rebuild of the edited layer as with SQLite; a change made elsewhere costs
//! one read and one rebuild of the layer (O(n log n) in its features) on every other server,
//! within a few milliseconds of its commit.
//!
//! Tested by hand (`edit::tests`: changes of another server applied with their revisions and
//! ids), against the SQLite store (`tests/pg_store.rs`), and with real servers over a real
//! database (`tests/replicas.rs`: two replicas, a replica killed, the database stopped under
//! writes, nginx in front); and every edit test (Part 4, accounts, rules, history, `?at=`, the
//! change log, `kill -9`, reload) runs its one body on both stores (`tests/common/stores.rs`).

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;

use super::pg::{self, PgStore, CHANNEL};
use super::store::{Change, Recorded, StoreError};
use super::{prepare, Backend, EditError, Job, Reply, Request, Writer};
use crate::feature::Field;
use crate::store::{Catalog, LoadError};

/// How often a server reads the changes of the others without a notification (a notification
/// lost with a broken connection is caught up by then at the latest).
pub const SAFETY_NET: Duration = Duration::from_secs(2);

/// The writer tries to reconnect at most this often; edits in between fail at once.
pub const RETRY: Duration = Duration::from_millis(500);

/// The longest pause of the listener between two attempts to reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The writer's side of the PostgreSQL store: the connection (when there is one) and the last
/// change applied.
pub struct Postgres {
    store: Option<PgStore>,
    pub(super) dsn: String,
    working_crs: String,
    /// The store's id (part of every `ETag`), kept while disconnected.
    pub(super) id: String,
    /// The `seq` of the last change applied to the served layers (shared with the listener,
    /// which asks for a read only when a commit it hears of is newer).
    pub(super) applied: Arc<AtomicU64>,
    /// The last failed attempt to connect, and why.
    failed: Option<(Instant, String)>,
}

/// Sets a catalogue up for edits kept in PostgreSQL (see [`super::open`] for SQLite):
/// connects with `dsn`, creates the tables when missing, imports each editable layer the
/// database does not have yet, and puts the stored state in place of the source's.
pub fn open_postgres(catalog: Catalog, dsn: &str) -> Result<(Catalog, Postgres), LoadError> {
    let store_error = |e: StoreError| LoadError::Edit(e.to_string());
    let working_crs = catalog.config.working_crs.clone();
    let store = PgStore::open(dsn, &working_crs).map_err(store_error)?;
    let mut postgres = Postgres {
        id: store.id.clone(),
        store: Some(store),
        dsn: dsn.to_string(),
        working_crs,
        applied: Arc::new(AtomicU64::new(0)),
        failed: None,
    };
    let catalog = postgres.prepare(catalog)?;
    Ok((catalog, postgres))
}

impl Postgres {
    /// [`prepare`] with the write lock held for the session: the layers are imported once,
    /// and what is read is one state, the one after change [`Postgres::applied`].
    pub(super) fn prepare(&mut self, catalog: Catalog) -> Result<Catalog, LoadError> {
        let store_error = |e: StoreError| LoadError::Edit(e.to_string());
        let store = self.connected().map_err(store_error)?;
        store.lock_writes().map_err(store_error)?;
        let prepared =
            prepare(catalog, store).and_then(|c| Ok((c, store.last_seq().map_err(store_error)?)));
        // Released with the session anyway if this fails.
        let _ = store.unlock_writes();
        let (catalog, applied) = prepared?;
        self.applied.store(applied, Ordering::SeqCst);
        Ok(catalog)
    }

    /// The connection, made again when it was lost (at most every [`RETRY`]).
    pub(super) fn connected(&mut self) -> Result<&mut PgStore, StoreError> {
        if self.store.as_ref().is_some_and(PgStore::is_closed) {
            self.store = None;
        }
        if self.store.is_none() {
            if let Some((when, why)) = &self.failed {
                if when.elapsed() < RETRY {
                    return Err(StoreError::Postgres {
                        place: pg::place_of(&self.dsn),
                        reason: why.clone(),
                        transient: true,
                    });
                }
            }
            match PgStore::open(&self.dsn, &self.working_crs) {
                Ok(store) if store.id != self.id => {
                    // Another store: its revisions are not the ones served (nor its ETags).
                    return Err(StoreError::Postgres {
                        place: store.place.clone(),
                        reason: format!(
                            "the database now holds another store (id {}, this server serves \
                             {}): restart the server",
                            store.id, self.id
                        ),
                        transient: false,
                    });
                }
                Ok(store) => {
                    tracing::info!(database = %store.place, "connected to the store again");
                    self.failed = None;
                    self.store = Some(store);
                }
                Err(e) => {
                    self.failed = Some((Instant::now(), e.to_string()));
                    return Err(e);
                }
            }
        }
        Ok(self.store.as_mut().expect("connected above"))
    }
}

impl Writer {
    fn postgres(&mut self) -> &mut Postgres {
        match &mut self.backend {
            Backend::Postgres(p) => p.as_mut(),
            Backend::Sqlite(_) => unreachable!("called with the PostgreSQL store only"),
        }
    }

    /// The fields of each editable layer, to read changes with.
    fn fields_by_layer(&self) -> std::collections::HashMap<String, Vec<Field>> {
        self.catalog
            .layers()
            .iter()
            .filter(|l| l.config.is_editable())
            .map(|l| (l.id().to_string(), l.fields.clone()))
            .collect()
    }

    /// The PostgreSQL store: the whole batch in one transaction, checked after the changes
    /// other servers made (see the module documentation).
    pub(super) fn run_postgres(&mut self, batch: Vec<(Request, Reply)>) {
        let at = crate::time::now_rfc3339();
        let id_errors = self.load_next_ids(&batch);
        let mut store = match self.postgres().connected() {
            Ok(_) => self.postgres().store.take().expect("connected"),
            Err(e) => {
                self.writable.store(false, Ordering::Relaxed);
                let (message, transient) = (e.to_string(), e.is_transient());
                for (_, reply) in batch {
                    let _ = reply.send(Err(EditError::Storage {
                        message: message.clone(),
                        transient,
                    }));
                }
                return;
            }
        };
        let since = self.postgres().applied.load(Ordering::SeqCst);
        let fields = self.fields_by_layer();
        let fields_of = |l: &str| fields.get(l).cloned();
        let mut batch = Some(batch);
        let mut checked = Vec::new();
        let mut missed_last = None;
        let outcome = store.commit(&fields_of, since, &mut |missed: Vec<Recorded>| {
            missed_last = missed.last().map(|r| r.seq);
            self.apply_recorded(missed);
            checked = self.check(batch.take().unwrap_or_default(), &at, &id_errors);
            let changes: Vec<Change> = checked
                .iter()
                .flat_map(|(_, w)| w.changes.iter().cloned())
                .collect();
            Ok::<_, Infallible>(changes)
        });
        // A connection that failed for a reason a later attempt may get through is made
        // anew: the server behind it may have restarted.
        let broken = store.is_closed() || matches!(&outcome, Err(e) if e.is_transient());
        let p = self.postgres();
        if !broken {
            p.store = Some(store);
        }
        if let Some(last) = missed_last {
            p.applied.fetch_max(last, Ordering::SeqCst);
        }
        match outcome {
            Ok(Ok(seqs)) => {
                if let Some(last) = seqs.last() {
                    p.applied.fetch_max(*last, Ordering::SeqCst);
                }
                self.writable.store(true, Ordering::Relaxed);
                let mut from = 0;
                for (layer_id, w) in checked {
                    let n = w.changes.len();
                    if n == 0 {
                        continue;
                    }
                    self.finish_ok(&layer_id, w, &seqs[from..from + n]);
                    from += n;
                }
            }
            Ok(Err(never)) => match never {},
            Err(e) => {
                let (message, transient) = (e.to_string(), e.is_transient());
                for (layer_id, w) in checked {
                    self.finish_err(&layer_id, w, &message, transient);
                }
                self.writable.store(false, Ordering::Relaxed);
                // Not checked: the transaction failed before.
                for (_, reply) in batch.take().unwrap_or_default() {
                    let _ = reply.send(Err(EditError::Storage {
                        message: message.clone(),
                        transient,
                    }));
                }
            }
        }
    }

    /// Reads the changes other servers committed since the last one applied, and applies
    /// them all (or none, on a failure: then the next sync reads them again).
    pub(super) fn sync(&mut self) {
        if !matches!(self.backend, Backend::Postgres(_)) {
            return;
        }
        let fields = self.fields_by_layer();
        let fields_of = |l: &str| fields.get(l).cloned();
        let p = self.postgres();
        let since = p.applied.load(Ordering::SeqCst);
        let read = p
            .connected()
            .and_then(|s| s.changes_since(since, &fields_of));
        match read {
            Ok(changes) => {
                let last = changes.last().map(|r| r.seq);
                if !changes.is_empty() {
                    self.apply_recorded(changes);
                }
                if let Some(last) = last {
                    let p = self.postgres();
                    p.applied.fetch_max(last, Ordering::SeqCst);
                }
                self.writable.store(true, Ordering::Relaxed);
            }
            Err(e) => {
                if e.is_transient() {
                    self.postgres().store = None;
                }
                if self.writable.swap(false, Ordering::Relaxed) {
                    tracing::warn!("changes of other servers not read: {e}");
                }
            }
        }
    }
}

/// Starts the thread that listens for the commits of every server (see the module
/// documentation) and asks the writer behind `jobs` to apply them. It ends with the writer.
pub(super) fn listen(
    dsn: String,
    jobs: mpsc::Sender<Job>,
    writable: Arc<AtomicBool>,
    applied: Arc<AtomicU64>,
) {
    std::thread::Builder::new()
        .name("territorio-listener".into())
        .spawn(move || {
            let mut backoff = Duration::from_millis(100);
            let mut said = false;
            loop {
                match pg::connect(&dsn) {
                    Ok((mut client, place)) => {
                        match client.batch_execute(&format!("LISTEN {CHANNEL}")) {
                            Ok(()) => {
                                backoff = Duration::from_millis(100);
                                if std::mem::replace(&mut said, false) {
                                    tracing::info!(database = %place, "listening again");
                                }
                                // Catch up with what was committed while away.
                                if jobs.send(Job::Sync).is_err() {
                                    return;
                                }
                                loop {
                                    let mut notifications = client.notifications();
                                    let got = notifications.timeout_iter(SAFETY_NET).next();
                                    // A read after every SAFETY_NET without news, and after a
                                    // commit newer than the last change applied (not after this
                                    // server's own, nor one a batch has read already). Several
                                    // commits notified at once take one read.
                                    let newer = |n: &postgres::Notification| {
                                        n.payload()
                                            .parse::<u64>()
                                            .map_or(true, |seq| seq > applied.load(Ordering::SeqCst))
                                    };
                                    let mut read = match got {
                                        Ok(None) => true,
                                        Ok(Some(n)) => newer(&n),
                                        Err(e) => {
                                            writable.store(false, Ordering::Relaxed);
                                            tracing::warn!(database = %place, "the store's database went away: {e}");
                                            said = true;
                                            break;
                                        }
                                    };
                                    while let Ok(Some(n)) = notifications.iter().next() {
                                        read |= newer(&n);
                                    }
                                    if read && jobs.send(Job::Sync).is_err() {
                                        return;
                                    }
                                }
                            }
                            Err(e) => {
                                writable.store(false, Ordering::Relaxed);
                                if !said {
                                    tracing::warn!(database = %place, "cannot listen for changes: {e}");
                                    said = true;
                                }
                            }
                        }
                    }
                    Err(e) => {
                        writable.store(false, Ordering::Relaxed);
                        if !said {
                            tracing::warn!("the store's database is unreachable: {e}");
                            said = true;
                        }
                    }
                }
                // The writer is gone when a job cannot be sent; probe with a harmless one.
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
                if jobs.send(Job::Sync).is_err() {
                    return;
                }
            }
        })
        .expect("the listener thread starts");
}
