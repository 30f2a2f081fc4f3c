//! The durable store of editable layers: one SQLite database in the server's data folder.
//!
//! Why SQLite: it is embedded (nothing to install or run beside the service), its commits are
//! atomic and durable, and planners can open the file with any SQLite tool or GDAL.
//!
//! What it promises: a change is acknowledged only after its transaction is committed with
//! `synchronous = FULL` in WAL mode, which syncs the write-ahead log to disk before the commit
//! returns. After a crash (`kill -9`, power loss on hardware that honours flushes), every
//! acknowledged change is there, and a change that was not acknowledged is there whole or not
//! at all.
//!
//! Tables:
//! - `meta`: the store's random id (part of every `ETag`) and format version;
//! - `layers`: which layers were imported, when, from which source;
//! - `features`: the current state: one row per feature (layer, id as JSON, revision, WKB
//!   geometry in the working CRS, properties as a JSON object);
//! - `changes`: every change, in order: sequence number, time, user, layer, feature, operation,
//!   and the feature before and after (properties and WKB geometry).
//!
//! The server writes from one thread ([`super::Editor`]); readers of the history open their
//! own read-only connections (WAL lets them read while the writer writes).

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, MAIN_DB};

use crate::feature::{Feature, FeatureId, Field};
use crate::source::wkb;

pub(super) use super::record::{parse_id, random_id};
pub use super::record::{
    parse_properties, properties_text, Change, EachShown, HistoryQuery, Operation, Recorded, State,
    StoreError,
};

/// The file name of the store in the data folder.
pub const FILE_NAME: &str = "territorio.sqlite";

const FORMAT: &str = "1";

/// The store, open for writing.
pub struct Store {
    conn: Connection,
    file: PathBuf,
    /// A random id, made when the store was created.
    pub id: String,
}

impl Store {
    /// Opens the store in `dir`, creating the folder and the database when missing.
    ///
    /// A folder that refuses writes (a read-only mount, no permission) does not stop the
    /// server when it already holds a store: the store is opened read-only, the layers are
    /// served as stored, and every edit is refused as a failure of the machine (the API answers
    /// 503) until the folder takes writes again and the server is restarted. Without a store
    /// there is nothing to serve from: the error names the folder and why.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Folder {
            dir: dir.to_path_buf(),
            reason: format!("cannot create it: {e}"),
        })?;
        let file = dir.join(FILE_NAME);
        let opened = Store::open_file(&file, false);
        let refused = match &opened {
            Ok(store) if store.conn.is_readonly(MAIN_DB).unwrap_or(false) => {
                // SQLite opens a file it may not write read-only, without an error.
                Some(folder_refuses_writes(dir).unwrap_or_else(|| "the file is read-only".into()))
            }
            Ok(_) => None,
            Err(_) => folder_refuses_writes(dir),
        };
        let Some(why) = refused else {
            return opened;
        };
        if !file.exists() {
            return Err(StoreError::Folder {
                dir: dir.to_path_buf(),
                reason: format!("cannot create the store {FILE_NAME} in it: {why}"),
            });
        }
        let store = match opened {
            Ok(store) => store,
            Err(_) => Store::open_file(&file, true)?,
        };
        tracing::warn!(
            file = %file.display(),
            "the store is read-only ({why}): the layers are served as stored, and edits are \
             refused (503) until it can be written and the server is restarted"
        );
        Ok(store)
    }

    /// Opens `file`, read-only when `read_only` (then it must already be a store).
    fn open_file(file: &Path, read_only: bool) -> Result<Store, StoreError> {
        let file = file.to_path_buf();
        let sql = |source| StoreError::Sqlite {
            file: file.clone(),
            source,
        };
        let conn = if read_only {
            open_file_read_only(&file).map_err(sql)?
        } else {
            Connection::open(&file).map_err(sql)?
        };
        // Another process holding a write lock makes us wait this long before failing.
        conn.busy_timeout(std::time::Duration::from_secs(2))
            .map_err(sql)?;
        if !read_only {
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .map_err(sql)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Corrupt {
                    file,
                    reason: format!("cannot use write-ahead logging (journal mode {mode})"),
                });
            }
            conn.execute_batch(
                "PRAGMA synchronous = FULL;
                 CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS layers (
                     id TEXT PRIMARY KEY, imported_at TEXT NOT NULL, source TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS features (
                     layer TEXT NOT NULL, id TEXT NOT NULL, rev INTEGER NOT NULL,
                     geometry BLOB NOT NULL, properties TEXT NOT NULL,
                     PRIMARY KEY (layer, id));
                 CREATE TABLE IF NOT EXISTS changes (
                     seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT NOT NULL,
                     layer TEXT NOT NULL, feature TEXT NOT NULL, operation TEXT NOT NULL,
                     before_properties TEXT, before_geometry BLOB,
                     after_properties TEXT, after_geometry BLOB);
                 CREATE INDEX IF NOT EXISTS changes_by_feature ON changes (layer, feature, seq);
                 CREATE INDEX IF NOT EXISTS changes_by_time ON changes (layer, at);",
            )
            .map_err(sql)?;
        }
        let format: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql)?;
        match format.as_deref() {
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('format', ?1), ('id', ?2)",
                    params![FORMAT, random_id()],
                )
                .map_err(sql)?;
            }
            Some(FORMAT) => {}
            Some(other) => {
                return Err(StoreError::Corrupt {
                    file,
                    reason: format!("format {other}, this version of territorio reads {FORMAT}"),
                })
            }
        }
        let id: String = conn
            .query_row("SELECT value FROM meta WHERE key = 'id'", [], |r| r.get(0))
            .map_err(sql)?;
        Ok(Store { conn, file, id })
    }

    /// Whether the store was opened for writing (not read-only: see [`Store::open`]).
    pub fn is_writable(&self) -> bool {
        !self.conn.is_readonly(MAIN_DB).unwrap_or(true)
    }

    /// The database file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |source| StoreError::Sqlite {
            file: self.file.clone(),
            source,
        }
    }

    /// Whether `layer` was imported.
    pub fn has_layer(&self, layer: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row("SELECT 1 FROM layers WHERE id = ?1", [layer], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
            .map_err(self.sql())
    }

    /// Imports a layer in one transaction: its features as they are now, and `history` (past
    /// changes, oldest first) into the change log. Features with no change in `history` get
    /// an `import` change at `at`.
    pub fn import(
        &mut self,
        layer: &str,
        source: &str,
        fields: &[Field],
        features: &[Feature],
        history: &[Change],
        at: &str,
    ) -> Result<(), StoreError> {
        let file = self.file.clone();
        let sql = |source| StoreError::Sqlite {
            file: file.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute(
            "INSERT INTO layers (id, imported_at, source) VALUES (?1, ?2, ?3)",
            params![layer, at, source],
        )
        .map_err(sql)?;
        let mut last_seq = std::collections::HashMap::new();
        for change in history {
            let seq = insert_change(&tx, fields, change).map_err(sql)?;
            last_seq.insert(change.feature.clone(), seq);
        }
        for f in features {
            let rev = match last_seq.get(&f.id) {
                Some(seq) => *seq,
                None => insert_change(
                    &tx,
                    fields,
                    &Change {
                        layer: layer.to_string(),
                        feature: f.id.clone(),
                        operation: Operation::Import,
                        at: at.to_string(),
                        user: "territorio".into(),
                        before: None,
                        after: Some(State {
                            values: f.values.to_vec(),
                            geometry: f.geometry.clone(),
                        }),
                    },
                )
                .map_err(sql)?,
            };
            tx.execute(
                "INSERT INTO features (layer, id, rev, geometry, properties)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    layer,
                    id_text(&f.id),
                    rev as i64,
                    wkb::encode(&f.geometry),
                    properties_text(fields, &f.values)
                ],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// The features of `layer` as stored, with their revisions, in id order.
    pub fn features(
        &self,
        layer: &str,
        fields: &[Field],
    ) -> Result<Vec<(Feature, u64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, rev, geometry, properties FROM features WHERE layer = ?1")
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([layer], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            let (id, rev, geometry, properties) = row.map_err(self.sql())?;
            let corrupt = |reason: String| StoreError::Corrupt {
                file: self.file.clone(),
                reason: format!("layer {layer:?}, feature {id}: {reason}"),
            };
            let feature = Feature {
                id: parse_id(&id).map_err(corrupt)?,
                geometry: wkb::decode(&geometry)
                    .map_err(|e| corrupt(format!("geometry: {e}")))?
                    .geometry,
                values: parse_properties(fields, &properties)
                    .map_err(corrupt)?
                    .into_boxed_slice(),
                invalid: None,
            };
            out.push((feature, rev as u64));
        }
        out.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        Ok(out)
    }

    /// The sequence number of the last change of `layer` (0: none).
    pub fn last_change(&self, layer: &str) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT coalesce(max(seq), 0) FROM changes WHERE layer = ?1",
                [layer],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(self.sql())
    }

    /// Every id `layer` ever had (so that a new feature never takes the id of a deleted one).
    pub fn all_ids(&self, layer: &str) -> Result<Vec<FeatureId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT feature FROM changes WHERE layer = ?1")
            .map_err(self.sql())?;
        let mut ids = Vec::new();
        for text in stmt
            .query_map([layer], |r| r.get::<_, String>(0))
            .map_err(self.sql())?
        {
            // A row that cannot be read is an error, not an id less.
            if let Ok(id) = parse_id(&text.map_err(self.sql())?) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// Records `changes` and applies them to the current state, in one transaction, durable
    /// when this returns. Returns each change's sequence number.
    pub fn commit(&mut self, fields: &[Field], changes: &[Change]) -> Result<Vec<u64>, StoreError> {
        let file = self.file.clone();
        let sql = |source| StoreError::Sqlite {
            file: file.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        let mut seqs = Vec::with_capacity(changes.len());
        for change in changes {
            let seq = insert_change(&tx, fields, change).map_err(sql)?;
            let id = id_text(&change.feature);
            match &change.after {
                Some(state) => {
                    tx.execute(
                        "INSERT INTO features (layer, id, rev, geometry, properties)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (layer, id) DO UPDATE SET
                             rev = excluded.rev, geometry = excluded.geometry,
                             properties = excluded.properties",
                        params![
                            change.layer,
                            id,
                            seq as i64,
                            wkb::encode(&state.geometry),
                            properties_text(fields, &state.values)
                        ],
                    )
                    .map_err(sql)?;
                }
                None => {
                    tx.execute(
                        "DELETE FROM features WHERE layer = ?1 AND id = ?2",
                        params![change.layer, id],
                    )
                    .map_err(sql)?;
                }
            }
            seqs.push(seq);
        }
        tx.commit().map_err(sql)?;
        Ok(seqs)
    }
}

fn insert_change(
    tx: &rusqlite::Transaction<'_>,
    fields: &[Field],
    change: &Change,
) -> Result<u64, rusqlite::Error> {
    let props = |s: &Option<State>| s.as_ref().map(|s| properties_text(fields, &s.values));
    let geom = |s: &Option<State>| s.as_ref().map(|s| wkb::encode(&s.geometry));
    tx.execute(
        "INSERT INTO changes (at, user, layer, feature, operation,
             before_properties, before_geometry, after_properties, after_geometry)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            change.at,
            change.user,
            change.layer,
            id_text(&change.feature),
            change.operation.name(),
            props(&change.before),
            geom(&change.before),
            props(&change.after),
            geom(&change.after),
        ],
    )?;
    Ok(tx.last_insert_rowid() as u64)
}

/// Reads the change log through a read-only connection of its own.
pub fn history(
    at: &StoreAt,
    fields: &[Field],
    q: &HistoryQuery,
) -> Result<(Vec<Recorded>, u64), StoreError> {
    match at {
        StoreAt::Folder(dir) => history_in_folder(dir, fields, q),
        StoreAt::Postgres(dsn) => super::pg::history(dsn, fields, q),
    }
}

/// Where a store is, for the readers that open a connection of their own (the history and the
/// past states, read beside the writer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreAt {
    /// The SQLite store in this data folder.
    Folder(PathBuf),
    /// The PostgreSQL store reached with this connection string ([`super::pg`]).
    Postgres(String),
}

fn history_in_folder(
    dir: &Path,
    fields: &[Field],
    q: &HistoryQuery,
) -> Result<(Vec<Recorded>, u64), StoreError> {
    let (conn, file) = open_read_only(dir)?;
    let sql = |source| StoreError::Sqlite {
        file: file.clone(),
        source,
    };
    let feature = q.feature.as_ref().map(id_text);
    let filter = "layer = ?1 AND (?2 IS NULL OR feature = ?2) AND (?3 IS NULL OR at >= ?3) \
                  AND (?4 IS NULL OR at <= ?4)";
    let total: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM changes WHERE {filter}"),
            params![q.layer, feature, q.from, q.to],
            |r| r.get(0),
        )
        .map_err(sql)?;
    let mut stmt = conn
        .prepare(&format!(
            "SELECT seq, at, user, feature, operation, before_properties, before_geometry,
                    after_properties, after_geometry
             FROM changes WHERE {filter} ORDER BY seq LIMIT ?5 OFFSET ?6"
        ))
        .map_err(sql)?;
    let out = recorded_rows(
        &mut stmt,
        params![
            q.layer,
            feature,
            q.from,
            q.to,
            q.limit as i64,
            q.offset as i64
        ],
        &file,
        &q.layer,
        fields,
    )?;
    Ok((out, total as u64))
}

/// The changes a statement selects (its columns: seq, at, user, feature, operation, before
/// properties and geometry, after properties and geometry), decoded.
fn recorded_rows(
    stmt: &mut rusqlite::Statement<'_>,
    args: impl rusqlite::Params,
    file: &Path,
    layer: &str,
    fields: &[Field],
) -> Result<Vec<Recorded>, StoreError> {
    let sql = |source| StoreError::Sqlite {
        file: file.to_path_buf(),
        source,
    };
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<Vec<u8>>,
        Option<String>,
        Option<Vec<u8>>,
    );
    let rows = stmt
        .query_map(args, |r| -> rusqlite::Result<Row> {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .map_err(sql)?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, at, user, feature, operation, bp, bg, ap, ag) = row.map_err(sql)?;
        let corrupt = |reason: String| StoreError::Corrupt {
            file: file.to_path_buf(),
            reason: format!("change {seq}: {reason}"),
        };
        let state = |p: Option<String>, g: Option<Vec<u8>>| -> Result<Option<State>, StoreError> {
            match (p, g) {
                (Some(p), Some(g)) => Ok(Some(State {
                    values: parse_properties(fields, &p).map_err(corrupt)?,
                    geometry: wkb::decode(&g)
                        .map_err(|e| corrupt(format!("geometry: {e}")))?
                        .geometry,
                })),
                _ => Ok(None),
            }
        };
        out.push(Recorded {
            seq: seq as u64,
            change: Change {
                layer: layer.to_string(),
                feature: parse_id(&feature).map_err(corrupt)?,
                operation: Operation::parse(&operation)
                    .ok_or_else(|| corrupt(format!("unknown operation {operation:?}")))?,
                at,
                user,
                before: state(bp, bg)?,
                after: state(ap, ag)?,
            },
        });
    }
    Ok(out)
}

/// How many changes [`changes_by_seq`] reads per statement.
const BY_SEQ_CHUNK: usize = 500;

/// The changes of `layer` whose sequence numbers are in `seqs` (ascending), read through a
/// connection of its own in pieces of a few hundred, each piece given to `each` in `seq`
/// order. A number that is not a change of `layer` is skipped.
pub fn changes_by_seq(
    at: &StoreAt,
    layer: &str,
    fields: &[Field],
    seqs: &[u64],
    each: &mut dyn FnMut(Vec<Recorded>),
) -> Result<(), StoreError> {
    if seqs.is_empty() {
        return Ok(());
    }
    match at {
        StoreAt::Postgres(dsn) => super::pg::changes_by_seq(dsn, layer, fields, seqs, each),
        StoreAt::Folder(dir) => {
            let (conn, file) = open_read_only(dir)?;
            let sql = |source| StoreError::Sqlite {
                file: file.clone(),
                source,
            };
            for piece in seqs.chunks(BY_SEQ_CHUNK) {
                // Rows by their primary key: the `+` keeps SQLite from scanning the index on
                // `layer` instead (every change of the layer, for each piece).
                let marks = vec!["?"; piece.len()].join(",");
                let mut stmt = conn
                    .prepare_cached(&format!(
                        "SELECT seq, at, user, feature, operation, before_properties,
                                before_geometry, after_properties, after_geometry
                         FROM changes WHERE +layer = ? AND seq IN ({marks}) ORDER BY seq"
                    ))
                    .map_err(sql)?;
                let mut args: Vec<rusqlite::types::Value> = Vec::with_capacity(piece.len() + 1);
                args.push(rusqlite::types::Value::Text(layer.to_string()));
                args.extend(
                    piece
                        .iter()
                        .map(|&s| rusqlite::types::Value::Integer(s as i64)),
                );
                let rows = recorded_rows(
                    &mut stmt,
                    rusqlite::params_from_iter(args),
                    &file,
                    layer,
                    fields,
                )?;
                each(rows);
            }
            Ok(())
        }
    }
}

/// What the change log's index keeps of each change of `layer` that has a state, in `seq`
/// order: the change's sequence number, its time (RFC 3339, as stored) and the geometry the
/// log shows (after the change; before it, for a deletion), as WKB, each given to `each`.
/// Streamed: nothing of the history is held here.
pub fn shown_changes(at: &StoreAt, layer: &str, each: &mut EachShown) -> Result<(), StoreError> {
    let dir = match at {
        StoreAt::Postgres(dsn) => return super::pg::shown_changes(dsn, layer, each),
        StoreAt::Folder(dir) => dir,
    };
    let (conn, file) = open_read_only(dir)?;
    let sql = |source| StoreError::Sqlite {
        file: file.clone(),
        source,
    };
    let mut stmt = conn
        .prepare(
            "SELECT seq, at,
                    CASE WHEN after_properties IS NOT NULL AND after_geometry IS NOT NULL
                              THEN after_geometry
                         WHEN before_properties IS NOT NULL AND before_geometry IS NOT NULL
                              THEN before_geometry END
             FROM changes WHERE layer = ?1 ORDER BY seq",
        )
        .map_err(sql)?;
    let mut rows = stmt.query([layer]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let seq: i64 = row.get(0).map_err(sql)?;
        let at: String = row.get(1).map_err(sql)?;
        let geometry: Option<Vec<u8>> = row.get(2).map_err(sql)?;
        if let Some(g) = geometry {
            each(seq as u64, &at, &g)?;
        }
    }
    Ok(())
}

/// A read-only connection of its own to the store in `dir` (WAL lets it read while the writer
/// writes), and the store's file.
pub(super) fn open_read_only(dir: &Path) -> Result<(Connection, PathBuf), StoreError> {
    let file = dir.join(FILE_NAME);
    let sql = |source| StoreError::Sqlite {
        file: file.clone(),
        source,
    };
    let conn = open_file_read_only(&file).map_err(sql)?;
    conn.busy_timeout(std::time::Duration::from_secs(2))
        .map_err(sql)?;
    Ok((conn, file))
}

/// Why `dir` refuses a new file, if it does (a read-only mount, no permission; whoever runs
/// the server: root ignores permissions, not a read-only mount).
fn folder_refuses_writes(dir: &Path) -> Option<String> {
    let probe = dir.join(format!(".{FILE_NAME}.probe"));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) => Some(e.to_string()),
    }
}

/// Opens the database for reading only.
///
/// WAL readers need the shared-memory file beside the database (`-shm`), which SQLite cannot
/// make in a folder that refuses writes: there, a store closed cleanly (no write-ahead log
/// left, so everything is in the database file) is opened as immutable, which needs none.
/// A store with a log left (after a crash) keeps it and its `-shm`, which SQLite then reads.
fn open_file_read_only(file: &Path) -> Result<Connection, rusqlite::Error> {
    let first = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY);
    let conn = match first {
        Ok(conn) => conn,
        Err(e) => return immutable_fallback(file).unwrap_or(Err(e)),
    };
    // SQLite opens lazily: the shared memory is needed at the first read. Not making it is
    // "cannot open" on a read-only mount, "read-only" without the permission.
    use rusqlite::ErrorCode::{CannotOpen, ReadOnly};
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(conn),
        Err(e) if matches!(e.sqlite_error_code(), Some(CannotOpen | ReadOnly)) => {
            immutable_fallback(file).unwrap_or(Err(e))
        }
        Err(e) => Err(e),
    }
}

/// The database opened as immutable, when the folder refuses writes and no write-ahead log
/// with content is beside it (its changes would be ignored); `None` otherwise.
fn immutable_fallback(file: &Path) -> Option<Result<Connection, rusqlite::Error>> {
    let dir = file.parent()?;
    let mut wal = file.as_os_str().to_owned();
    wal.push("-wal");
    let log_left = std::fs::metadata(&wal)
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if log_left || folder_refuses_writes(dir).is_none() {
        return None;
    }
    let uri = format!("file:{}?immutable=1", uri_path(file));
    Some(Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
    ))
}

/// A path as the path of a `file:` URI: `%`-escapes all but unreserved characters and `/`.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn id_text(id: &FeatureId) -> String {
    id.to_json().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature::{FieldType, Value};
    use geo::point;

    fn fields() -> Vec<Field> {
        vec![
            Field {
                name: "name".into(),
                ty: FieldType::String,
            },
            Field {
                name: "n".into(),
                ty: FieldType::Int,
            },
            Field {
                name: "amount".into(),
                ty: FieldType::Real,
            },
            Field {
                name: "day".into(),
                ty: FieldType::Date,
            },
        ]
    }

    fn feature(id: &str, n: i64) -> Feature {
        Feature {
            id: FeatureId::Str(id.into()),
            geometry: point!(x: 600_000.125, y: 5_000_000.5).into(),
            values: vec![
                Value::String(format!("feature {id}").into()),
                Value::Int(n),
                Value::Real(0.1 + 0.2),
                Value::Date("2026-06-30".into()),
            ]
            .into(),
            invalid: None,
        }
    }

    #[test]
    fn an_imported_layer_reads_back_exactly_and_changes_are_recorded_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).expect("opens");
        assert!(!store.has_layer("p").unwrap());
        let features = vec![feature("A", 1), feature("B", 2)];
        store
            .import(
                "p",
                "p.geojson",
                &fields(),
                &features,
                &[],
                "2026-01-01T00:00:00Z",
            )
            .expect("imports");
        assert!(store.has_layer("p").unwrap());
        let back = store.features("p", &fields()).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].0.values, features[0].values);
        assert_eq!(back[0].0.geometry, features[0].geometry);
        // Two import changes: revisions 1 and 2.
        assert_eq!((back[0].1, back[1].1), (1, 2));

        let mut changed = feature("A", 10);
        changed.geometry = point!(x: 1.0, y: 2.0).into();
        let seqs = store
            .commit(
                &fields(),
                &[
                    Change {
                        layer: "p".into(),
                        feature: FeatureId::Str("A".into()),
                        operation: Operation::Update,
                        at: "2026-02-01T00:00:00Z".into(),
                        user: "anna".into(),
                        before: Some(State {
                            values: features[0].values.to_vec(),
                            geometry: features[0].geometry.clone(),
                        }),
                        after: Some(State {
                            values: changed.values.to_vec(),
                            geometry: changed.geometry.clone(),
                        }),
                    },
                    Change {
                        layer: "p".into(),
                        feature: FeatureId::Str("B".into()),
                        operation: Operation::Delete,
                        at: "2026-02-02T00:00:00Z".into(),
                        user: "anna".into(),
                        before: None,
                        after: None,
                    },
                ],
            )
            .expect("commits");
        assert_eq!(seqs, vec![3, 4]);
        drop(store);

        // Reopened: the state and the history are there.
        let store = Store::open(dir.path()).expect("reopens");
        let back = store.features("p", &fields()).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].0.values[1], Value::Int(10));
        assert_eq!(back[0].1, 3);
        let (log, total) = history(
            &crate::edit::store::StoreAt::Folder(dir.path().to_path_buf()),
            &fields(),
            &HistoryQuery {
                layer: "p".into(),
                feature: Some(FeatureId::Str("A".into())),
                limit: 10,
                ..HistoryQuery::default()
            },
        )
        .unwrap();
        assert_eq!(total, 2);
        assert_eq!(log[0].change.operation, Operation::Import);
        assert_eq!(log[1].change.operation, Operation::Update);
        assert_eq!(log[1].change.user, "anna");
        assert_eq!(
            log[1].change.after.as_ref().unwrap().geometry,
            changed.geometry
        );
        // By time.
        let (log, total) = history(
            &crate::edit::store::StoreAt::Folder(dir.path().to_path_buf()),
            &fields(),
            &HistoryQuery {
                layer: "p".into(),
                from: Some("2026-02-02T00:00:00Z".into()),
                limit: 10,
                ..HistoryQuery::default()
            },
        )
        .unwrap();
        assert_eq!((total, log[0].seq), (1, 4));
    }

    #[test]
    fn a_store_of_another_format_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'format'", [])
            .unwrap();
        drop(conn);
        let e = Store::open(dir.path()).err().expect("refused").to_string();
        assert!(e.contains("format 99"), "{e}");
        assert!(e.contains(FILE_NAME), "{e}");
    }

    #[test]
    fn properties_of_another_type_are_reported_not_guessed() {
        let e = parse_properties(&fields(), r#"{"n": "ten"}"#).unwrap_err();
        assert!(e.contains("property n"), "{e}");
        let v = parse_properties(&fields(), r#"{"n": 3}"#).unwrap();
        assert_eq!(
            v,
            vec![Value::Null, Value::Int(3), Value::Null, Value::Null]
        );
    }
}
