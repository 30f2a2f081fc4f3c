//! Edits of editable layers: checked, made durable, then published as a new catalogue.
//!
//! A layer takes edits when its catalogue entry has `[layer.edit]`. Its state lives in the
//! store: SQLite in the server's data folder ([`store`], [`open`]), or a PostgreSQL/PostGIS
//! database that several servers share ([`pg`], [`replica::open_postgres`]; how the servers
//! keep each other's edits is in [`replica`]). On first start the layer's source (and its
//! `history` file, [`history`]) is imported; from then on the layer is read from the store,
//! and the committed source file is never written.
//!
//! One writer thread applies every edit ([`Editor`]), in the order they arrive:
//! 1. each edit is checked against the state as the edits before it left it: the feature
//!    exists (or, for a new one, gets the next id), `If-Match` names its current revision,
//!    the properties pass the layer's rules ([`rules`]), the geometry has the layer's type;
//! 2. the edits waiting together are written in one transaction, durable when it commits
//!    (group commit: one disk sync for many edits); with PostgreSQL, step 1 runs inside that
//!    transaction, after the changes other servers committed are applied;
//! 3. the layer is rebuilt (features, R-tree), its change log's index takes the new changes
//!    ([`log`]: the changes themselves stay in the store), and a new catalogue sharing the
//!    other layers is published with both; only then is each edit answered, so a client reads
//!    its own write at once, in the layer and in its change log.
//!
//! A failed commit answers every edit of its transaction with [`EditError::Storage`] and
//! publishes nothing: the served state stays the durable one.
//!
//! Cost per batch: O(n log n) in the edited layer's features (the rebuilt R-tree), plus one
//! disk sync. For the pact's few hundred projects that is well under a millisecond; a layer of
//! hundreds of thousands of features would want an R-tree updated in place instead.
//!
//! The layers as they stood at past instants are replayed from the store's change log
//! ([`timeline`]).
//!
//! Geometries arrive here already in the working CRS and validated (the API reads them with
//! [`crate::analysis::subject`]); nothing here knows about HTTP.

mod column;
pub mod history;
pub mod log;
pub mod pg;
pub mod record;
pub mod replica;
pub mod rules;
pub mod store;
pub mod timeline;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{mpsc, Arc};

use geo::Geometry;
use serde_json::{Map, Value as Json};

use crate::feature::{geometry_type_name, Feature, FeatureId, Field, FieldType, Value};
use crate::store::{Catalog, Layer, LoadError, Revisions};
use rules::{Problem, Schema};
use store::{Change, Operation, State, Store, StoreError};

/// A write sent by a client, its geometry in the working CRS.
#[derive(Debug, Clone)]
pub enum Write {
    /// A new feature; the service gives it its id.
    Create {
        geometry: Geometry<f64>,
        properties: Map<String, Json>,
    },
    /// The whole feature replaced: properties not sent become null.
    Replace {
        id: FeatureId,
        geometry: Geometry<f64>,
        properties: Map<String, Json>,
    },
    /// Only what is sent changes (RFC 7396 merge patch: a null property becomes null).
    Patch {
        id: FeatureId,
        geometry: Option<Geometry<f64>>,
        properties: Map<String, Json>,
    },
    Delete {
        id: FeatureId,
    },
}

impl Write {
    fn target(&self) -> Option<&FeatureId> {
        match self {
            Write::Create { .. } => None,
            Write::Replace { id, .. } | Write::Patch { id, .. } | Write::Delete { id } => Some(id),
        }
    }
}

/// A client's `If-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: the feature must exist.
    Any,
    /// The feature's current tag must be one of these (strong comparison).
    Tags(Vec<String>),
}

/// One edit: what, where, by whom, on which condition.
#[derive(Debug, Clone)]
pub struct Request {
    pub layer: String,
    pub write: Write,
    pub user: String,
    pub if_match: Option<IfMatch>,
}

/// An edit done and published.
#[derive(Debug, Clone)]
pub struct Done {
    pub id: FeatureId,
    /// The feature's new `ETag`; `None` after a deletion.
    pub tag: Option<String>,
    /// The catalogue with the edit (and maybe later ones).
    pub catalog: Arc<Catalog>,
}

/// Why an edit was not made. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("the catalogue has no layer {0:?}")]
    UnknownLayer(String),
    #[error("layer {0:?} is read-only")]
    ReadOnly(String),
    #[error("layer {layer:?} has no feature {id}")]
    NotFound { layer: String, id: FeatureId },
    /// `If-Match` did not name the current revision.
    #[error("feature {id} was changed by someone else: its current tag is {current}")]
    Stale { id: FeatureId, current: String },
    #[error("{}", problems_text(.0))]
    Invalid(Vec<Problem>),
    /// The store refused the transaction; `transient` when the machine may let it through
    /// later (disk full, read-only folder, database locked).
    #[error("the edit could not be stored: {message}")]
    Storage { message: String, transient: bool },
    #[error("the editor has stopped")]
    Stopped,
}

fn problems_text(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Sets a catalogue up for edits: opens the store in `data_dir`, imports each editable layer
/// the store does not have yet (with its history file), and puts the stored state in place of
/// the source's. Returns the catalogue as stored and the open store.
pub fn open(catalog: Catalog, data_dir: &Path) -> Result<(Catalog, Store), LoadError> {
    let store_error = |e: StoreError| LoadError::Edit(e.to_string());
    let mut store = Store::open(data_dir).map_err(store_error)?;
    let catalog = prepare(catalog, &mut store)?;
    Ok((catalog, store))
}

/// What [`prepare`] and the writer ask of a store: the SQLite [`Store`] or the PostgreSQL
/// [`pg::PgStore`].
trait Stored {
    fn has_layer(&mut self, layer: &str) -> Result<bool, StoreError>;
    fn import(
        &mut self,
        layer: &str,
        source: &str,
        fields: &[Field],
        features: &[Feature],
        history: &[Change],
        at: &str,
    ) -> Result<(), StoreError>;
    fn features(
        &mut self,
        layer: &str,
        fields: &[Field],
    ) -> Result<Vec<(Feature, u64)>, StoreError>;
    fn last_change(&mut self, layer: &str) -> Result<u64, StoreError>;
    fn all_ids(&mut self, layer: &str) -> Result<Vec<FeatureId>, StoreError>;
    fn store_id(&self) -> String;
    fn at(&self) -> store::StoreAt;
    /// Where it is, for messages.
    fn describe(&self) -> String;
}

impl Stored for Store {
    fn has_layer(&mut self, layer: &str) -> Result<bool, StoreError> {
        Store::has_layer(self, layer)
    }
    fn import(
        &mut self,
        layer: &str,
        source: &str,
        fields: &[Field],
        features: &[Feature],
        history: &[Change],
        at: &str,
    ) -> Result<(), StoreError> {
        Store::import(self, layer, source, fields, features, history, at)
    }
    fn features(
        &mut self,
        layer: &str,
        fields: &[Field],
    ) -> Result<Vec<(Feature, u64)>, StoreError> {
        Store::features(self, layer, fields)
    }
    fn last_change(&mut self, layer: &str) -> Result<u64, StoreError> {
        Store::last_change(self, layer)
    }
    fn all_ids(&mut self, layer: &str) -> Result<Vec<FeatureId>, StoreError> {
        Store::all_ids(self, layer)
    }
    fn store_id(&self) -> String {
        self.id.clone()
    }
    fn at(&self) -> store::StoreAt {
        store::StoreAt::Folder(
            self.file()
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        )
    }
    fn describe(&self) -> String {
        self.file().display().to_string()
    }
}

impl Stored for pg::PgStore {
    fn has_layer(&mut self, layer: &str) -> Result<bool, StoreError> {
        pg::PgStore::has_layer(self, layer)
    }
    fn import(
        &mut self,
        layer: &str,
        source: &str,
        fields: &[Field],
        features: &[Feature],
        history: &[Change],
        at: &str,
    ) -> Result<(), StoreError> {
        pg::PgStore::import(self, layer, source, fields, features, history, at).map(|_| ())
    }
    fn features(
        &mut self,
        layer: &str,
        fields: &[Field],
    ) -> Result<Vec<(Feature, u64)>, StoreError> {
        pg::PgStore::features(self, layer, fields)
    }
    fn last_change(&mut self, layer: &str) -> Result<u64, StoreError> {
        pg::PgStore::last_change(self, layer)
    }
    fn all_ids(&mut self, layer: &str) -> Result<Vec<FeatureId>, StoreError> {
        pg::PgStore::all_ids(self, layer)
    }
    fn store_id(&self) -> String {
        self.id.clone()
    }
    fn at(&self) -> store::StoreAt {
        store::StoreAt::Postgres(self.dsn().to_string())
    }
    fn describe(&self) -> String {
        self.place.clone()
    }
}

/// Puts the stored state of each editable layer of `catalog` in place of its source's
/// (importing the layers the store does not have yet), and adds their change logs.
fn prepare(catalog: Catalog, store: &mut dyn Stored) -> Result<Catalog, LoadError> {
    let store_error = |e: StoreError| LoadError::Edit(e.to_string());
    let mut catalog = catalog;
    let editable: Vec<String> = catalog
        .layers()
        .iter()
        .filter(|l| l.config.is_editable())
        .map(|l| l.id().to_string())
        .collect();
    for id in editable {
        let layer = catalog.layer(&id).expect("listed above");
        let schema = schema_of(layer);
        schema
            .check()
            .map_err(|e| LoadError::Edit(format!("layer {id:?}: {e}")))?;
        if !store.has_layer(&id).map_err(store_error)? {
            let history = match layer.config.edit.as_ref().and_then(|e| e.history.as_ref()) {
                Some(path) => history::read(path, &id, &layer.fields, &layer.features)
                    .map_err(|e| LoadError::Edit(format!("layer {id:?}: history {e}")))?,
                None => Vec::new(),
            };
            store
                .import(
                    &id,
                    &layer.config.origin().display().to_string(),
                    &layer.fields,
                    &layer.features,
                    &history,
                    &crate::time::now_rfc3339(),
                )
                .map_err(store_error)?;
            tracing::info!(layer = %id, store = %store.describe(), history = history.len(), "layer imported into the store");
        }
        let stored = store.features(&id, &layer.fields).map_err(store_error)?;
        let last = store.last_change(&id).map_err(store_error)?;
        let rebuilt = rebuild(layer, &store.store_id(), stored, last)?;
        // The change log, as a layer of its own: an index here, the changes in the store.
        let change_log =
            Arc::new(log::ChangeLog::open(&store.at(), &rebuilt).map_err(store_error)?);
        let log_layer = change_log.layer(&rebuilt)?;
        catalog = catalog
            .with_layer(rebuilt)
            .expect("the layer is in the catalogue");
        catalog = catalog.with_added_layer(log_layer).ok_or_else(|| {
            LoadError::Edit(format!(
                "layer {id:?}: the catalogue already has a layer {:?}, the id of its change log",
                log::log_id(&id)
            ))
        })?;
    }
    Ok(catalog)
}

/// The schema and rules of a layer.
pub fn schema_of(layer: &Layer) -> Schema {
    Schema {
        fields: layer.fields.clone(),
        rules: layer.config.field_rules.clone(),
        id_field: layer.config.id_field.clone(),
    }
}

/// A layer like `like`, with `features` (and their revisions) in place of its own.
fn rebuild(
    like: &Layer,
    store: &str,
    features: Vec<(Feature, u64)>,
    last: u64,
) -> Result<Layer, LoadError> {
    let (features, revs): (Vec<Feature>, Vec<u64>) = features.into_iter().unzip();
    let mut layer = Layer::new(
        like.config.clone(),
        like.source_crs.clone(),
        like.driver.clone(),
        like.fields.clone(),
        features,
    )?;
    layer.revisions = Some(Revisions {
        store: store.to_string(),
        of_feature: revs,
        layer: last,
    });
    layer.version = last;
    Ok(layer)
}

type Reply = tokio::sync::oneshot::Sender<Result<Done, EditError>>;

/// The writer: one thread that checks, stores and publishes every edit.
pub struct Editor {
    jobs: mpsc::Sender<Job>,
    store_at: store::StoreAt,
    /// The store took its last transaction (or was opened for writing and has had none); with
    /// PostgreSQL, also: the database is reachable.
    writable: Arc<std::sync::atomic::AtomicBool>,
    /// The database, as messages name it, when the store is PostgreSQL.
    database: Option<String>,
}

/// What the writer thread is asked to do, in order.
enum Job {
    Edit(Request, Reply),
    /// Take a newly loaded catalogue (a reload), with the stored state of its editable layers.
    Reload(
        Catalog,
        tokio::sync::oneshot::Sender<Result<Arc<Catalog>, LoadError>>,
    ),
    /// Read and apply the changes other servers committed (PostgreSQL only).
    Sync,
}

/// What a new catalogue changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    /// The layer at this position (the others are the same `Arc`s).
    Layer(usize),
    /// Everything: a reloaded catalogue.
    All,
}

/// Called with each new catalogue and the position of the layer that changed.
pub type Publish = Box<dyn Fn(Arc<Catalog>, Changed) + Send>;

/// How many waiting edits go into one transaction at most.
const MAX_BATCH: usize = 256;

impl Editor {
    /// Starts the writer thread on `catalog` (as returned by [`open`]) and `store`.
    pub fn start(catalog: Arc<Catalog>, store: Store, data_dir: &Path, publish: Publish) -> Editor {
        let writable = Arc::new(std::sync::atomic::AtomicBool::new(store.is_writable()));
        let backend = Backend::Sqlite(store);
        let jobs = Self::spawn(catalog, backend, publish, writable.clone());
        Editor {
            jobs,
            store_at: store::StoreAt::Folder(data_dir.to_path_buf()),
            writable,
            database: None,
        }
    }

    /// Starts the writer thread on `catalog` (as returned by [`replica::open_postgres`]) and the
    /// PostgreSQL store, and the thread that listens for other servers' commits
    /// ([`replica`]).
    pub fn start_postgres(
        catalog: Arc<Catalog>,
        postgres: replica::Postgres,
        publish: Publish,
    ) -> Editor {
        let writable = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let dsn = postgres.dsn.clone();
        let applied = postgres.applied.clone();
        let place = pg::place_of(&dsn);
        let jobs = Self::spawn(
            catalog,
            Backend::Postgres(Box::new(postgres)),
            publish,
            writable.clone(),
        );
        replica::listen(dsn.clone(), jobs.clone(), writable.clone(), applied);
        Editor {
            jobs,
            store_at: store::StoreAt::Postgres(dsn),
            writable,
            database: Some(place),
        }
    }

    /// Starts the writer thread; returns where to send it jobs.
    fn spawn(
        catalog: Arc<Catalog>,
        backend: Backend,
        publish: Publish,
        writable: Arc<std::sync::atomic::AtomicBool>,
    ) -> mpsc::Sender<Job> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let logs = logs_of(&catalog);
        let mut writer = Writer {
            catalog,
            backend,
            publish,
            next_ids: HashMap::new(),
            logs,
            writable,
        };
        std::thread::Builder::new()
            .name("territorio-editor".into())
            .spawn(move || loop {
                let Ok(first) = queue.recv() else {
                    break;
                };
                // The edits waiting, up to a reload (which goes after them, alone).
                let mut batch = Vec::new();
                let mut sync = false;
                let mut next = Some(first);
                while let Some(job) = next.take() {
                    match job {
                        Job::Edit(request, reply) => batch.push((request, reply)),
                        Job::Sync => sync = true,
                        Job::Reload(catalog, reply) => {
                            writer.run(std::mem::take(&mut batch));
                            let _ = reply.send(writer.reload(catalog));
                            break;
                        }
                    }
                    if batch.len() < MAX_BATCH {
                        next = queue.try_recv().ok();
                    }
                }
                // A batch of edits reads the missed changes in its own transaction.
                if sync && batch.is_empty() {
                    writer.sync();
                }
                writer.run(batch);
            })
            .expect("the editor thread starts");
        jobs
    }

    /// Makes one edit; answers once it is durable and published.
    pub async fn submit(&self, request: Request) -> Result<Done, EditError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Job::Edit(request, reply))
            .map_err(|_| EditError::Stopped)?;
        answer.await.map_err(|_| EditError::Stopped)?
    }

    /// Replaces the catalogue with `catalog`, newly loaded from the catalogue file: its
    /// editable layers take their stored state (a layer new to the store is imported), and
    /// it is published whole. Edits sent before are applied to the old catalogue and kept
    /// (they are in the store); edits sent after go to the new one. On an error the old
    /// catalogue stays.
    pub async fn reload(&self, catalog: Catalog) -> Result<Arc<Catalog>, LoadError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let stopped = || LoadError::Edit("the editor has stopped".into());
        self.jobs
            .send(Job::Reload(catalog, reply))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Whether the store takes writes: it was opened for writing and its last transaction
    /// went through (with PostgreSQL: and the database is reachable).
    pub fn is_writable(&self) -> bool {
        self.writable.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Where the store is (history reads open their own connections there).
    pub fn store_at(&self) -> &store::StoreAt {
        &self.store_at
    }

    /// The PostgreSQL database of the store, as messages name it (no password); `None` for
    /// the SQLite store.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }
}

/// The store the writer writes to.
enum Backend {
    Sqlite(Store),
    Postgres(Box<replica::Postgres>),
}

struct Writer {
    catalog: Arc<Catalog>,
    backend: Backend,
    publish: Publish,
    /// The next number of a new id, per layer (above every id the layer ever had).
    next_ids: HashMap<String, i64>,
    /// The change log of each editable layer, by the edited layer's id.
    logs: HashMap<String, Arc<log::ChangeLog>>,
    /// Shared with the [`Editor`]: whether the last transaction went through.
    writable: Arc<std::sync::atomic::AtomicBool>,
}

/// The change logs of the editable layers of `catalog`, as [`prepare`] added them.
fn logs_of(catalog: &Catalog) -> HashMap<String, Arc<log::ChangeLog>> {
    catalog
        .layers()
        .iter()
        .filter(|l| l.config.is_editable())
        .filter_map(|l| {
            let kept = catalog.layer(&log::log_id(l.id()))?.change_log.clone()?;
            let log = kept.into_any().downcast::<log::ChangeLog>().ok()?;
            Some((l.id().to_string(), log))
        })
        .collect()
}

/// A layer being edited within one batch.
struct Working {
    pos: usize,
    schema: Schema,
    features: Vec<Feature>,
    revs: Vec<u64>,
    by_id: HashMap<FeatureId, usize>,
    /// Index into `changes` of each feature's last change in this batch.
    pending: HashMap<FeatureId, usize>,
    changes: Vec<Change>,
    /// The replies waiting for the commit: (reply, feature id, deleted).
    replies: Vec<(Reply, FeatureId, bool)>,
}

/// Why the next ids of a layer are not known: the store could not list its ids.
type IdErrors = HashMap<String, (String, bool)>;

impl Writer {
    /// Takes a reloaded catalogue (see [`Editor::reload`]).
    fn reload(&mut self, catalog: Catalog) -> Result<Arc<Catalog>, LoadError> {
        let prepared = match &mut self.backend {
            Backend::Sqlite(store) => prepare(catalog, store)?,
            Backend::Postgres(p) => p.prepare(catalog)?,
        };
        let prepared = Arc::new(prepared);
        self.catalog = prepared.clone();
        self.logs = logs_of(&prepared);
        // Ids are counted again from the store, for the layers of the new catalogue.
        self.next_ids.clear();
        (self.publish)(prepared.clone(), Changed::All);
        Ok(prepared)
    }

    /// This catalogue with `rebuilt` in place of the edited layer of the same id and, when it
    /// has a change log, the log layer showing the changes up to now.
    fn with_edited(&self, rebuilt: Layer) -> Result<Catalog, LoadError> {
        let id = rebuilt.id().to_string();
        let log_layer = match self.logs.get(&id) {
            Some(log) => Some(log.layer(&rebuilt)?),
            None => None,
        };
        let mut next = self
            .catalog
            .with_layer(rebuilt)
            .expect("the layer is in the catalogue");
        if let Some(l) = log_layer {
            if let Some(with_log) = next.with_layer(l) {
                next = with_log;
            }
        }
        Ok(next)
    }

    fn run(&mut self, batch: Vec<(Request, Reply)>) {
        if batch.is_empty() {
            return;
        }
        match self.backend {
            Backend::Sqlite(_) => self.run_sqlite(batch),
            Backend::Postgres(_) => self.run_postgres(batch),
        }
    }

    /// The SQLite store: each layer's edits in a transaction of their own.
    fn run_sqlite(&mut self, batch: Vec<(Request, Reply)>) {
        let at = crate::time::now_rfc3339();
        let id_errors = self.load_next_ids(&batch);
        let working = self.check(batch, &at, &id_errors);
        for (layer_id, w) in working {
            if w.changes.is_empty() {
                continue;
            }
            let fields = self.catalog.layers()[w.pos].fields.clone();
            let Backend::Sqlite(store) = &mut self.backend else {
                unreachable!("run_sqlite runs on the SQLite store")
            };
            match store.commit(&fields, &w.changes) {
                Ok(seqs) => self.finish_ok(&layer_id, w, &seqs),
                Err(e) => self.finish_err(&layer_id, w, &e.to_string(), e.is_transient()),
            }
        }
    }

    /// Reads the next ids of the layers that `batch` creates features in and that are not
    /// known yet; returns why those that could not be read were not.
    fn load_next_ids(&mut self, batch: &[(Request, Reply)]) -> IdErrors {
        let mut errors = IdErrors::new();
        for (request, _) in batch {
            let layer = &request.layer;
            if !matches!(request.write, Write::Create { .. })
                || self.next_ids.contains_key(layer)
                || errors.contains_key(layer)
            {
                continue;
            }
            if let Err(e) = self.next_id(layer) {
                // Without every id the layer ever had, a guess could give a new feature a
                // deleted one's id, or a live one's: refuse instead.
                tracing::error!(layer = %layer, "ids of the layer not read: {e}");
                errors.insert(layer.clone(), (e.to_string(), e.is_transient()));
            }
        }
        errors
    }

    /// The number of the next new id of a layer: one more than any id it ever had. An error
    /// when the store cannot list them.
    fn next_id(&mut self, layer: &str) -> Result<i64, StoreError> {
        if let Some(n) = self.next_ids.get(layer) {
            return Ok(*n);
        }
        let prefix = self
            .catalog
            .layer(layer)
            .and_then(|l| l.config.edit.as_ref())
            .and_then(|e| e.id_prefix.clone())
            .unwrap_or_default();
        let ever = match &mut self.backend {
            Backend::Sqlite(store) => store.all_ids(layer)?,
            Backend::Postgres(p) => p.connected()?.all_ids(layer)?,
        };
        let max = ever
            .iter()
            .filter_map(|id| number_in(id, &prefix))
            .max()
            .unwrap_or(0);
        self.next_ids.insert(layer.to_string(), max + 1);
        Ok(max + 1)
    }

    /// Checks each edit of `batch` against the state the edits before it left, applies it to
    /// the working state of its layer, and answers at once those refused.
    fn check(
        &mut self,
        batch: Vec<(Request, Reply)>,
        at: &str,
        id_errors: &IdErrors,
    ) -> Vec<(String, Working)> {
        let mut working: Vec<(String, Working)> = Vec::new();
        for (request, reply) in batch {
            let layer_id = request.layer.clone();
            let Some(pos) = self.catalog.position(&layer_id) else {
                let _ = reply.send(Err(EditError::UnknownLayer(layer_id)));
                continue;
            };
            let catalog = self.catalog.clone();
            let layer = &catalog.layers()[pos];
            if !layer.config.is_editable() {
                let _ = reply.send(Err(EditError::ReadOnly(layer_id)));
                continue;
            }
            let k = match working.iter().position(|(id, _)| *id == layer_id) {
                Some(k) => k,
                None => {
                    working.push((layer_id.clone(), Working::of(pos, layer)));
                    working.len() - 1
                }
            };
            // The number of a new id (unused by other writes).
            let next_id = match &request.write {
                Write::Create { .. } => match self.next_ids.get(&layer_id) {
                    Some(n) => *n,
                    None => {
                        let (message, transient) = id_errors
                            .get(&layer_id)
                            .cloned()
                            .unwrap_or_else(|| ("the layer's ids were not read".to_string(), true));
                        let _ = reply.send(Err(EditError::Storage { message, transient }));
                        continue;
                    }
                },
                _ => 0,
            };
            let w = &mut working[k].1;
            match w.apply(layer, request, at, next_id) {
                Ok((id, created)) => {
                    if created {
                        self.next_ids.entry(layer_id).and_modify(|n| *n += 1);
                    }
                    let deleted = !w.by_id.contains_key(&id);
                    w.replies.push((reply, id, deleted));
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            }
        }
        working
    }

    /// The id of the store (part of every `ETag`).
    fn store_id(&self) -> String {
        match &self.backend {
            Backend::Sqlite(store) => store.id.clone(),
            Backend::Postgres(p) => p.id.clone(),
        }
    }

    /// Publishes the edits of `w`, stored with sequence numbers `seqs`, and answers them.
    fn finish_ok(&mut self, layer_id: &str, w: Working, seqs: &[u64]) {
        let layer = self.catalog.layers()[w.pos].clone();
        let mut revs = w.revs;
        for (change, seq) in w.changes.iter().zip(seqs) {
            if let Some(&i) = w.by_id.get(&change.feature) {
                revs[i] = *seq;
            }
        }
        let last = seqs.last().copied().unwrap_or_default();
        if let Some(log) = self.logs.get(layer_id) {
            log.append(seqs.iter().copied().zip(&w.changes));
        }
        let store_id = self.store_id();
        let stored: Vec<(Feature, u64)> = w.features.into_iter().zip(revs).collect();
        let rebuilt = match rebuild(&layer, &store_id, stored, last) {
            Ok(l) => l,
            Err(e) => {
                // The edits are durable but could not be indexed: say so; a restart
                // serves them.
                tracing::error!(layer = %layer_id, "edited layer not rebuilt: {e}");
                for (reply, _, _) in w.replies {
                    let _ = reply.send(Err(EditError::Stopped));
                }
                return;
            }
        };
        let tags: Vec<Option<String>> = w
            .replies
            .iter()
            .map(|(_, id, deleted)| {
                (!*deleted)
                    .then(|| rebuilt.position(id).and_then(|i| rebuilt.feature_tag(i)))
                    .flatten()
            })
            .collect();
        let catalog = match self.with_edited(rebuilt) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                tracing::error!(layer = %layer_id, "edited layer not published: {e}");
                for (reply, _, _) in w.replies {
                    let _ = reply.send(Err(EditError::Stopped));
                }
                return;
            }
        };
        self.catalog = catalog.clone();
        (self.publish)(catalog.clone(), Changed::Layer(w.pos));
        self.writable
            .store(true, std::sync::atomic::Ordering::Relaxed);
        for ((reply, id, _), tag) in w.replies.into_iter().zip(tags) {
            let _ = reply.send(Ok(Done {
                id,
                tag,
                catalog: catalog.clone(),
            }));
        }
    }

    /// Answers the edits of `w` that the store refused; nothing is published.
    fn finish_err(&mut self, layer_id: &str, w: Working, message: &str, transient: bool) {
        tracing::error!(layer = %layer_id, "edits not stored: {message}");
        self.writable
            .store(false, std::sync::atomic::Ordering::Relaxed);
        for (reply, _, _) in w.replies {
            let _ = reply.send(Err(EditError::Storage {
                message: message.to_string(),
                transient,
            }));
        }
        // Ids handed out to edits that were not stored may be given again.
        self.next_ids.remove(layer_id);
    }

    /// Applies changes that another server committed (each after every change up to
    /// `seq - 1` that this server has): the layers they touch take their states and
    /// revisions, their change logs take them, and each changed layer is published.
    fn apply_recorded(&mut self, changes: Vec<store::Recorded>) {
        let mut by_layer: Vec<(String, Vec<store::Recorded>)> = Vec::new();
        for r in changes {
            match by_layer.iter_mut().find(|(l, _)| *l == r.change.layer) {
                Some((_, list)) => list.push(r),
                None => by_layer.push((r.change.layer.clone(), vec![r])),
            }
        }
        let store_id = self.store_id();
        for (layer_id, list) in by_layer {
            let catalog = self.catalog.clone();
            let Some(pos) = catalog.position(&layer_id) else {
                continue;
            };
            let layer = &catalog.layers()[pos];
            if !layer.config.is_editable() {
                continue;
            }
            let prefix = layer
                .config
                .edit
                .as_ref()
                .and_then(|e| e.id_prefix.clone())
                .unwrap_or_default();
            let mut w = Working::of(pos, layer);
            let mut last = layer.version;
            for r in &list {
                let id = &r.change.feature;
                match (&r.change.after, w.by_id.get(id).copied()) {
                    (Some(state), Some(i)) => {
                        w.features[i].values = state.values.as_slice().into();
                        w.features[i].geometry = state.geometry.clone();
                        w.features[i].invalid = None;
                        w.revs[i] = r.seq;
                    }
                    (Some(state), None) => {
                        w.features.push(Feature {
                            id: id.clone(),
                            geometry: state.geometry.clone(),
                            values: state.values.as_slice().into(),
                            invalid: None,
                        });
                        w.revs.push(r.seq);
                        w.by_id.insert(id.clone(), w.features.len() - 1);
                    }
                    (None, Some(i)) => {
                        w.features.remove(i);
                        w.revs.remove(i);
                        w.by_id.remove(id);
                        for (j, f) in w.features.iter().enumerate().skip(i) {
                            w.by_id.insert(f.id.clone(), j);
                        }
                    }
                    (None, None) => {}
                }
                last = last.max(r.seq);
                // A new id made elsewhere is not given again here.
                if let (Some(n), Some(next)) =
                    (number_in(id, &prefix), self.next_ids.get_mut(&layer_id))
                {
                    *next = (*next).max(n + 1);
                }
            }
            if let Some(log) = self.logs.get(&layer_id) {
                log.append(list.iter().map(|r| (r.seq, &r.change)));
            }
            let stored: Vec<(Feature, u64)> = w.features.into_iter().zip(w.revs).collect();
            match rebuild(layer, &store_id, stored, last).and_then(|l| self.with_edited(l)) {
                Ok(next) => {
                    let next = Arc::new(next);
                    self.catalog = next.clone();
                    (self.publish)(next, Changed::Layer(pos));
                }
                Err(e) => {
                    tracing::error!(layer = %layer_id, "changes of other servers not applied: {e}")
                }
            }
        }
    }
}

/// The number in an id made of `prefix` and digits (or an integer id when there is no prefix).
fn number_in(id: &FeatureId, prefix: &str) -> Option<i64> {
    match id {
        FeatureId::Int(i) if prefix.is_empty() => Some(*i),
        FeatureId::Str(s) => s.strip_prefix(prefix)?.parse().ok(),
        FeatureId::Int(_) => None,
    }
}

impl Working {
    fn of(pos: usize, layer: &Layer) -> Working {
        let features = layer.features.clone();
        let revs = layer
            .revisions
            .as_ref()
            .map(|r| r.of_feature.clone())
            .unwrap_or_else(|| vec![0; features.len()]);
        let by_id = features
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.clone(), i))
            .collect();
        Working {
            pos,
            schema: schema_of(layer),
            features,
            revs,
            by_id,
            pending: HashMap::new(),
            changes: Vec::new(),
            replies: Vec::new(),
        }
    }

    /// The current tag of a feature, as clients see it (an edit earlier in this batch counts:
    /// its tag is not known until the commit, so any `If-Match` against it is stale).
    fn tag(&self, layer: &Layer, id: &FeatureId) -> Option<String> {
        let i = *self.by_id.get(id)?;
        if self.pending.contains_key(id) {
            return Some("\"pending\"".into());
        }
        let store = &layer.revisions.as_ref()?.store;
        Some(format!("\"{store}-{}\"", self.revs[i]))
    }

    /// Checks and applies one edit to the working state. Returns the feature id, and whether
    /// a new id was used.
    fn apply(
        &mut self,
        layer: &Layer,
        request: Request,
        at: &str,
        next_id: i64,
    ) -> Result<(FeatureId, bool), EditError> {
        let layer_id = layer.id().to_string();
        if let Some(id) = request.write.target() {
            let Some(current) = self.tag(layer, id) else {
                return Err(EditError::NotFound {
                    layer: layer_id,
                    id: id.clone(),
                });
            };
            if let Some(IfMatch::Tags(tags)) = &request.if_match {
                if !tags.contains(&current) {
                    return Err(EditError::Stale {
                        id: id.clone(),
                        current,
                    });
                }
            }
        }
        let single_type: Option<&'static str> = {
            let mut types = layer.geometry_types();
            match (types.next(), types.next()) {
                (Some(t), None) => Some(t),
                _ => None,
            }
        };
        let check_type = |g: &Geometry<f64>, problems: &mut Vec<Problem>| {
            if let Some(t) = single_type {
                let got = geometry_type_name(g);
                if got != t {
                    problems.push(Problem {
                        field: "geometry".into(),
                        rule: format!("the layer's features are {t}s, not {got}s"),
                    });
                }
            }
        };
        let (id, created) = match &request.write {
            Write::Create { .. } => (self.new_id(layer, next_id), true),
            other => (other.target().cloned().expect("has a target"), false),
        };
        let id_value = match &id {
            FeatureId::Int(i) => match self.schema.id_field_type() {
                Some(FieldType::String) => Value::String(i.to_string().into()),
                _ => Value::Int(*i),
            },
            FeatureId::Str(s) => Value::String((**s).into()),
        };
        let index = self.by_id.get(&id).copied();
        let before = index.map(|i| State {
            values: self.features[i].values.to_vec(),
            geometry: self.features[i].geometry.clone(),
        });
        let (operation, after) = match request.write {
            Write::Delete { .. } => (Operation::Delete, None),
            Write::Create {
                geometry,
                properties,
            }
            | Write::Replace {
                geometry,
                properties,
                ..
            } => {
                let mut problems = Vec::new();
                check_type(&geometry, &mut problems);
                let values = self.schema.apply(None, &properties, &id_value);
                let values = finish_check(values, problems)?;
                let op = if created {
                    Operation::Create
                } else {
                    Operation::Replace
                };
                (op, Some(State { values, geometry }))
            }
            Write::Patch {
                geometry,
                properties,
                ..
            } => {
                let current = before.as_ref().expect("exists: checked above");
                let mut problems = Vec::new();
                if let Some(g) = &geometry {
                    check_type(g, &mut problems);
                }
                let values = self
                    .schema
                    .apply(Some(&current.values), &properties, &id_value);
                let values = finish_check(values, problems)?;
                let geometry = geometry.unwrap_or_else(|| current.geometry.clone());
                (Operation::Update, Some(State { values, geometry }))
            }
        };
        // Applied to the working state.
        match (&after, index) {
            (Some(state), Some(i)) => {
                self.features[i].values = state.values.as_slice().into();
                self.features[i].geometry = state.geometry.clone();
                self.features[i].invalid = None;
            }
            (Some(state), None) => {
                self.features.push(Feature {
                    id: id.clone(),
                    geometry: state.geometry.clone(),
                    values: state.values.as_slice().into(),
                    invalid: None,
                });
                self.revs.push(0);
                self.by_id.insert(id.clone(), self.features.len() - 1);
            }
            (None, Some(i)) => {
                // The others keep their order (O(n)), the order the store gives them back
                // after a restart: a client paging through the collection sees the same
                // order before and after one.
                self.features.remove(i);
                self.revs.remove(i);
                self.by_id.remove(&id);
                for (j, f) in self.features.iter().enumerate().skip(i) {
                    self.by_id.insert(f.id.clone(), j);
                }
            }
            (None, None) => unreachable!("a deletion has a target, checked above"),
        }
        self.pending.insert(id.clone(), self.changes.len());
        self.changes.push(Change {
            layer: layer_id,
            feature: id.clone(),
            operation,
            at: at.to_string(),
            user: request.user,
            before,
            after,
        });
        Ok((id, created))
    }

    /// A new id: the layer's prefix and the next number, as wide as the widest existing id.
    fn new_id(&self, layer: &Layer, next: i64) -> FeatureId {
        let prefix = layer
            .config
            .edit
            .as_ref()
            .and_then(|e| e.id_prefix.as_deref());
        match prefix {
            None if self.schema.id_field_type() != Some(FieldType::String) => FeatureId::Int(next),
            None => FeatureId::Str(next.to_string().into()),
            Some(p) => {
                let width = self
                    .features
                    .iter()
                    .filter_map(|f| match &f.id {
                        FeatureId::Str(s) => s.strip_prefix(p).map(str::len),
                        FeatureId::Int(_) => None,
                    })
                    .max()
                    .unwrap_or(0);
                FeatureId::Str(format!("{p}{next:0width$}").into())
            }
        }
    }
}

fn finish_check(
    values: Result<Vec<Value>, Vec<Problem>>,
    mut problems: Vec<Problem>,
) -> Result<Vec<Value>, EditError> {
    match values {
        Ok(v) if problems.is_empty() => Ok(v),
        Ok(_) => Err(EditError::Invalid(problems)),
        Err(mut p) => {
            p.append(&mut problems);
            Err(EditError::Invalid(p))
        }
    }
}

impl Schema {
    /// The type of the id field, when ids are a property.
    fn id_field_type(&self) -> Option<FieldType> {
        let id = self.id_field.as_deref()?;
        self.fields
            .iter()
            .find(|f: &&Field| f.name == id)
            .map(|f| f.ty)
    }
}

#[cfg(test)]
mod tests;
