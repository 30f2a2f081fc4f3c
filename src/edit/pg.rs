//! The store of editable layers in PostgreSQL/PostGIS: the same records as the SQLite store
//! ([`super::store`]), in a database that several servers share.
//!
//! Why: a province that runs more than one server process, or keeps its data in PostGIS,
//! needs one truth that every process writes to and reads from. PostgreSQL gives the
//! transactions and the durability (an acknowledged commit survives a crash, with the default
//! `synchronous_commit = on`), and its `NOTIFY` tells the other processes that something
//! changed.
//!
//! Tables, in schema `territorio` (created when missing), for a DBA to query:
//! - `meta`: the store's random id (part of every `ETag`) and format version;
//! - `layers`: which layers were imported, when, from where;
//! - `features`: one row per feature: layer, id (JSON text: `"P001"` or `12`), revision,
//!   geometry (PostGIS, in the working CRS's SRID), properties (`jsonb`);
//! - `changes`: every change in commit order: `seq`, time (`timestamptz`), user, layer,
//!   feature, operation, and the feature before and after (properties and geometry).
//!
//! **Order across servers.** Every transaction that writes takes one advisory lock
//! ([`WRITE_LOCK`]) first, so transactions that write commit one after the other and the
//! `seq` of their changes grows in commit order: a reader that has applied every change up to
//! `seq` n and then reads `seq > n` misses nothing, even if it missed notifications
//! ([`PgStore::changes_since`]). A committed transaction notifies channel [`CHANNEL`] with its
//! last `seq`.
//!
//! Cost: a batch of edits is written in a fixed number of statements whatever its size (its
//! sequence numbers, the changes from arrays, the features upserted, the features deleted, the
//! notification), one round trip each, and one commit: one disk sync on the database server.
//! (An import writes a row per statement: it happens once.)

use std::collections::HashMap;

use geo::Geometry;
use postgres::{Client, NoTls};

use super::record::{
    parse_id, parse_properties, properties_text, random_id, Change, EachShown, HistoryQuery,
    Operation, Recorded, State, StoreError,
};
use crate::feature::{Feature, FeatureId, Field};
use crate::source::wkb;

/// The channel a commit notifies, with its last `seq` as payload.
pub const CHANNEL: &str = "territorio_changes";

/// The advisory lock every writing transaction holds (the bytes of "terr" and "itor").
pub const WRITE_LOCK: i64 = 0x7465_7272_6974_6f72;

const FORMAT: &str = "1";

/// The store, connected.
pub struct PgStore {
    client: Client,
    /// The SRID of the working CRS (0 when it has no EPSG code).
    srid: i32,
    /// A random id, made when the store was created.
    pub id: String,
    /// The connection as shown in messages (the connection string has no password).
    pub place: String,
    dsn: String,
}

/// A PostgreSQL failure, named with the store's place; transient when a later attempt may get
/// through: the server is unreachable (connection refused or lost), or it says so itself (its
/// SQLSTATE: a connection exception, class 08; shutting down, restarting or starting up,
/// 57P01 to 57P03; out of resources, class 53; a serialisation failure or deadlock).
fn pg_error(place: &str, e: postgres::Error) -> StoreError {
    let transient = match e.code().map(|c| c.code()) {
        _ if e.is_closed() => true,
        None => e.as_db_error().is_none(),
        Some(code) => {
            code.starts_with("08")
                || code.starts_with("53")
                || matches!(code, "57P01" | "57P02" | "57P03" | "40001" | "40P01")
        }
    };
    StoreError::Postgres {
        place: place.to_string(),
        transient,
        reason: e
            .as_db_error()
            .map(|db| db.message().to_string())
            .unwrap_or_else(|| e.to_string()),
    }
}

impl PgStore {
    /// Connects with `dsn` (libpq keywords or a `postgresql://` URI, as the catalogue's
    /// `[database]`), and creates the schema and tables when missing. `working_crs` is the
    /// catalogue's (`EPSG:32632`): its code is the SRID of the stored geometries.
    pub fn open(dsn: &str, working_crs: &str) -> Result<PgStore, StoreError> {
        let (mut client, place) = connect(dsn)?;
        let srid: i32 = working_crs
            .strip_prefix("EPSG:")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let err = |e| pg_error(&place, e);
        let postgis = client
            .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'postgis'", &[])
            .map_err(err)?;
        if postgis.is_none() {
            return Err(StoreError::Postgres {
                place,
                transient: false,
                reason: "the database has no PostGIS extension (CREATE EXTENSION postgis)".into(),
            });
        }
        let mut tx = client.transaction().map_err(err)?;
        tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})"))
            .map_err(err)?;
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS territorio;
             CREATE TABLE IF NOT EXISTS territorio.meta (key text PRIMARY KEY, value text NOT NULL);
             CREATE TABLE IF NOT EXISTS territorio.layers (
                 id text PRIMARY KEY, imported_at timestamptz NOT NULL, source text NOT NULL);
             CREATE TABLE IF NOT EXISTS territorio.features (
                 layer text NOT NULL, id text NOT NULL, rev bigint NOT NULL,
                 geometry geometry(Geometry, {srid}) NOT NULL, properties jsonb NOT NULL,
                 PRIMARY KEY (layer, id));
             CREATE TABLE IF NOT EXISTS territorio.changes (
                 seq bigserial PRIMARY KEY, at timestamptz NOT NULL, username text NOT NULL,
                 layer text NOT NULL, feature text NOT NULL, operation text NOT NULL,
                 before_properties jsonb, before_geometry geometry(Geometry, {srid}),
                 after_properties jsonb, after_geometry geometry(Geometry, {srid}));
             CREATE INDEX IF NOT EXISTS changes_by_feature
                 ON territorio.changes (layer, feature, seq);
             CREATE INDEX IF NOT EXISTS changes_by_time ON territorio.changes (layer, at);"
        ))
        .map_err(err)?;
        let format: Option<String> = tx
            .query_opt(
                "SELECT value FROM territorio.meta WHERE key = 'format'",
                &[],
            )
            .map_err(err)?
            .map(|r| r.get(0));
        match format.as_deref() {
            None => {
                tx.execute(
                    "INSERT INTO territorio.meta (key, value) VALUES ('format', $1), ('id', $2)",
                    &[&FORMAT, &random_id()],
                )
                .map_err(err)?;
            }
            Some(FORMAT) => {}
            Some(other) => {
                return Err(StoreError::Postgres {
                    place,
                    transient: false,
                    reason: format!(
                        "store format {other}, this version of territorio reads {FORMAT}"
                    ),
                })
            }
        }
        let id: String = tx
            .query_one("SELECT value FROM territorio.meta WHERE key = 'id'", &[])
            .map_err(err)?
            .get(0);
        tx.commit().map_err(err)?;
        Ok(PgStore {
            client,
            srid,
            id,
            place,
            dsn: dsn.to_string(),
        })
    }

    /// The connection string it was opened with.
    pub fn dsn(&self) -> &str {
        &self.dsn
    }

    fn err(&self) -> impl Fn(postgres::Error) -> StoreError + '_ {
        |e| pg_error(&self.place, e)
    }

    /// Whether the connection is gone (the server restarted or the network broke).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Whether `layer` was imported.
    pub fn has_layer(&mut self, layer: &str) -> Result<bool, StoreError> {
        let place = self.place.clone();
        self.client
            .query_opt("SELECT 1 FROM territorio.layers WHERE id = $1", &[&layer])
            .map(|r| r.is_some())
            .map_err(|e| pg_error(&place, e))
    }

    /// Holds the [`WRITE_LOCK`] for this connection until [`PgStore::unlock_writes`] (or until
    /// the connection ends): no other server commits meanwhile, so that several reads give
    /// one consistent state. This connection's own transactions still take it.
    pub fn lock_writes(&mut self) -> Result<(), StoreError> {
        let place = self.place.clone();
        self.client
            .batch_execute(&format!("SELECT pg_advisory_lock({WRITE_LOCK})"))
            .map_err(|e| pg_error(&place, e))
    }

    /// Lets the other servers commit again (see [`PgStore::lock_writes`]).
    pub fn unlock_writes(&mut self) -> Result<(), StoreError> {
        let place = self.place.clone();
        self.client
            .batch_execute(&format!("SELECT pg_advisory_unlock({WRITE_LOCK})"))
            .map_err(|e| pg_error(&place, e))
    }

    /// Imports a layer in one transaction, as [`super::store::Store::import`] does, unless
    /// another server imported it first: the check is made again under the [`WRITE_LOCK`], so
    /// two servers starting together import a layer once. Returns whether this call imported.
    pub fn import(
        &mut self,
        layer: &str,
        source: &str,
        fields: &[Field],
        features: &[Feature],
        history: &[Change],
        at: &str,
    ) -> Result<bool, StoreError> {
        let place = self.place.clone();
        let err = |e| pg_error(&place, e);
        let srid = self.srid;
        let mut tx = self.client.transaction().map_err(err)?;
        tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})"))
            .map_err(err)?;
        let imported = tx
            .query_opt("SELECT 1 FROM territorio.layers WHERE id = $1", &[&layer])
            .map_err(err)?
            .is_some();
        if imported {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO territorio.layers (id, imported_at, source) VALUES ($1, $2::text::timestamptz, $3)",
            &[&layer, &at, &source],
        )
        .map_err(err)?;
        let mut last_seq = std::collections::HashMap::new();
        for change in history {
            let seq = insert_change(&mut tx, srid, fields, change).map_err(err)?;
            last_seq.insert(change.feature.clone(), seq);
        }
        for f in features {
            let rev = match last_seq.get(&f.id) {
                Some(seq) => *seq,
                None => insert_change(
                    &mut tx,
                    srid,
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
                .map_err(err)?,
            };
            upsert_feature(
                &mut tx,
                srid,
                layer,
                &f.id,
                rev,
                &f.geometry,
                &properties_text(fields, &f.values),
            )
            .map_err(err)?;
        }
        let last = last_seq
            .values()
            .copied()
            .max()
            .unwrap_or_default()
            .to_string();
        tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &last])
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(true)
    }

    /// The features of `layer` as stored, with their revisions, in id order.
    pub fn features(
        &mut self,
        layer: &str,
        fields: &[Field],
    ) -> Result<Vec<(Feature, u64)>, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT id, rev, ST_AsBinary(geometry), properties::text
                 FROM territorio.features WHERE layer = $1",
                &[&layer],
            )
            .map_err(self.err())?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.get(0);
            let corrupt = |reason: String| StoreError::Postgres {
                place: self.place.clone(),
                transient: false,
                reason: format!("layer {layer:?}, feature {id}: {reason}"),
            };
            let geometry: Vec<u8> = row.get(2);
            let properties: String = row.get(3);
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
            out.push((feature, row.get::<_, i64>(1) as u64));
        }
        out.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        Ok(out)
    }

    /// The sequence number of the last change of `layer` (0: none).
    pub fn last_change(&mut self, layer: &str) -> Result<u64, StoreError> {
        let place = self.place.clone();
        self.client
            .query_one(
                "SELECT coalesce(max(seq), 0) FROM territorio.changes WHERE layer = $1",
                &[&layer],
            )
            .map(|r| r.get::<_, i64>(0) as u64)
            .map_err(|e| pg_error(&place, e))
    }

    /// The sequence number of the last change of any layer (0: none).
    pub fn last_seq(&mut self) -> Result<u64, StoreError> {
        let place = self.place.clone();
        self.client
            .query_one("SELECT coalesce(max(seq), 0) FROM territorio.changes", &[])
            .map(|r| r.get::<_, i64>(0) as u64)
            .map_err(|e| pg_error(&place, e))
    }

    /// Every id `layer` ever had.
    pub fn all_ids(&mut self, layer: &str) -> Result<Vec<FeatureId>, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT DISTINCT feature FROM territorio.changes WHERE layer = $1",
                &[&layer],
            )
            .map_err(self.err())?;
        Ok(rows
            .iter()
            .filter_map(|r| parse_id(&r.get::<_, String>(0)).ok())
            .collect())
    }

    /// Records `changes` and applies them to the current state in one transaction, after
    /// every other server's writes (the [`WRITE_LOCK`]); durable when this returns. Returns
    /// each change's sequence number.
    ///
    /// `check` runs inside the transaction, with the lock held, before anything is written:
    /// it gets the changes other servers committed since `since` and may refuse the batch
    /// (then nothing is written). A server passes the last `seq` it has applied, so that it
    /// checks its edits against the state every server's writes left.
    pub fn commit<E>(
        &mut self,
        fields_of: &dyn Fn(&str) -> Option<Vec<Field>>,
        since: u64,
        check: &mut dyn FnMut(Vec<Recorded>) -> Result<Vec<Change>, E>,
    ) -> Result<Result<Vec<u64>, E>, StoreError> {
        let place = self.place.clone();
        let err = |e| pg_error(&place, e);
        let srid = self.srid;
        let mut tx = self.client.transaction().map_err(err)?;
        tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})"))
            .map_err(err)?;
        let missed = read_changes(&mut tx, &place, since, fields_of)?;
        let changes = match check(missed) {
            Ok(changes) => changes,
            Err(refused) => return Ok(Err(refused)),
        };
        let seqs = write_changes(&mut tx, srid, fields_of, &changes).map_err(err)?;
        if let Some(last) = seqs.last() {
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &last.to_string()])
                .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(Ok(seqs))
    }

    /// Every change after `since`, in order, read in one snapshot: a server that applies them
    /// all has every change up to the last one returned, and none partially.
    pub fn changes_since(
        &mut self,
        since: u64,
        fields_of: &dyn Fn(&str) -> Option<Vec<Field>>,
    ) -> Result<Vec<Recorded>, StoreError> {
        let place = self.place.clone();
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| pg_error(&place, e))?;
        let changes = read_changes(&mut tx, &place, since, fields_of)?;
        tx.commit().map_err(|e| pg_error(&place, e))?;
        Ok(changes)
    }
}

/// A connection of its own (a reader beside the writer, a listener), and the place it names
/// in messages.
///
/// Over TCP, what the connection string does not set is chosen so that a database host that
/// goes away is noticed in seconds rather than at the system's limits (minutes to hours): a
/// connection attempt gives up after 5 s (`connect_timeout`), data unacknowledged for 15 s
/// closes the connection (`tcp_user_timeout`), and an idle connection (a listener's) is probed
/// after 10 s of silence, every 5 s, three times. A connection string without a password takes
/// `PGPASSWORD` when set (the catalogue refuses a password in the string).
pub fn connect(dsn: &str) -> Result<(Client, String), StoreError> {
    use std::time::Duration;
    let place = format!("PostgreSQL {}", safe_dsn(dsn));
    let mut config: postgres::Config = dsn.parse().map_err(|e| pg_error(&place, e))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(Duration::from_secs(15));
    }
    // The library's default is two hours, as libpq's.
    if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
        config.keepalives_idle(Duration::from_secs(10));
        if config.get_keepalives_interval().is_none() {
            config.keepalives_interval(Duration::from_secs(5));
        }
        if config.get_keepalives_retries().is_none() {
            config.keepalives_retries(3);
        }
    }
    if config.get_password().is_none() {
        if let Ok(password) = std::env::var("PGPASSWORD") {
            config.password(password);
        }
    }
    let client = config.connect(NoTls).map_err(|e| pg_error(&place, e))?;
    Ok((client, place))
}

/// The place of a connection string as messages name it (`PostgreSQL host=... dbname=...`).
pub fn place_of(dsn: &str) -> String {
    format!("PostgreSQL {}", safe_dsn(dsn))
}

/// The changes of one layer that `q` selects, and how many there are in all (as
/// [`super::store::history`] reads them from SQLite).
pub fn history(
    dsn: &str,
    fields: &[Field],
    q: &HistoryQuery,
) -> Result<(Vec<Recorded>, u64), StoreError> {
    let (mut client, place) = connect(dsn)?;
    let err = |e| pg_error(&place, e);
    let feature = q.feature.as_ref().map(|id| id.to_json().to_string());
    let filter = "layer = $1 AND ($2::text IS NULL OR feature = $2) \
                  AND ($3::text IS NULL OR at >= $3::text::timestamptz) \
                  AND ($4::text IS NULL OR at <= $4::text::timestamptz)";
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(err)?;
    let total: i64 = tx
        .query_one(
            &format!("SELECT count(*) FROM territorio.changes WHERE {filter}"),
            &[&q.layer, &feature, &q.from, &q.to],
        )
        .map_err(err)?
        .get(0);
    let rows = tx
        .query(
            &format!(
                "SELECT {CHANGE_COLUMNS}
                 FROM territorio.changes WHERE {filter} ORDER BY seq LIMIT $5 OFFSET $6"
            ),
            &[
                &q.layer,
                &feature,
                &q.from,
                &q.to,
                &(q.limit.min(i64::MAX as usize) as i64),
                &(q.offset.min(i64::MAX as usize) as i64),
            ],
        )
        .map_err(err)?;
    tx.commit().map_err(err)?;
    let fields_of = |_: &str| Some(fields.to_vec());
    let out = rows
        .iter()
        .map(|row| recorded(row, &place, &fields_of))
        .filter_map(Result::transpose)
        .collect::<Result<_, _>>()?;
    Ok((out, total as u64))
}

/// Every change of `layer` in order: its `seq`, time (RFC 3339, UTC) and feature id (JSON
/// text), for [`super::timeline`].
pub fn entries(dsn: &str, layer: &str) -> Result<Vec<(i64, String, String)>, StoreError> {
    let (mut client, place) = connect(dsn)?;
    let rows = client
        .query(
            &format!(
                "SELECT seq, {AT_TEXT}, feature FROM territorio.changes WHERE layer = $1 \
                 ORDER BY seq"
            ),
            &[&layer],
        )
        .map_err(|e| pg_error(&place, e))?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// The changes of `layer` whose sequence numbers are in `seqs`, given to `each` in pieces of
/// a thousand in `seq` order (as [`super::store::changes_by_seq`] reads them from SQLite).
pub fn changes_by_seq(
    dsn: &str,
    layer: &str,
    fields: &[Field],
    seqs: &[u64],
    each: &mut dyn FnMut(Vec<Recorded>),
) -> Result<(), StoreError> {
    let (mut client, place) = connect(dsn)?;
    // Rows of another layer are skipped here, not in SQL: with `layer = $1` there, before
    // the table has statistics, PostgreSQL chose the index on (layer, feature, seq) and read
    // every change of the layer for each piece; on `seq` alone it takes the primary key.
    let fields_of = |l: &str| (l == layer).then(|| fields.to_vec());
    for piece in seqs.chunks(CHUNK as usize) {
        let wanted: Vec<i64> = piece.iter().map(|&s| s as i64).collect();
        let (first, last) = (wanted[0], wanted[wanted.len() - 1]);
        let rows = client
            .query(
                &format!(
                    "SELECT {CHANGE_COLUMNS} FROM territorio.changes
                     WHERE seq BETWEEN $2 AND $3 AND seq = ANY($1) ORDER BY seq"
                ),
                &[&wanted, &first, &last],
            )
            .map_err(|e| pg_error(&place, e))?;
        let out = rows
            .iter()
            .map(|row| recorded(row, &place, &fields_of))
            .filter_map(Result::transpose)
            .collect::<Result<Vec<_>, _>>()?;
        each(out);
    }
    Ok(())
}

/// Every change of `layer` that has a state, in `seq` order: its `seq`, time (RFC 3339, UTC)
/// and the geometry the change log shows (WKB), given to `each`, read in pieces of a thousand
/// (as [`super::store::shown_changes`] reads them from SQLite).
pub fn shown_changes(dsn: &str, layer: &str, each: &mut EachShown) -> Result<(), StoreError> {
    let (mut client, place) = connect(dsn)?;
    let mut after = 0i64;
    loop {
        let rows = client
            .query(
                &format!(
                    "SELECT seq, {AT_TEXT}, ST_AsBinary(CASE
                         WHEN after_properties IS NOT NULL AND after_geometry IS NOT NULL
                              THEN after_geometry
                         WHEN before_properties IS NOT NULL AND before_geometry IS NOT NULL
                              THEN before_geometry END)
                     FROM territorio.changes WHERE layer = $1 AND seq > $2
                     ORDER BY seq LIMIT $3"
                ),
                &[&layer, &after, &CHUNK],
            )
            .map_err(|e| pg_error(&place, e))?;
        for row in &rows {
            after = row.get(0);
            let at: String = row.get(1);
            let geometry: Option<Vec<u8>> = row.get(2);
            if let Some(g) = geometry {
                each(after as u64, &at, &g)?;
            }
        }
        if (rows.len() as i64) < CHUNK {
            return Ok(());
        }
    }
}

/// The feature each change in `wanted` left (`None` for a deletion), for [`super::timeline`].
pub fn states_after(
    dsn: &str,
    layer: &str,
    fields: &[Field],
    wanted: &[i64],
) -> Result<HashMap<i64, Option<Feature>>, StoreError> {
    let (mut client, place) = connect(dsn)?;
    let rows = client
        .query(
            "SELECT seq, feature, after_properties::text, ST_AsBinary(after_geometry)
             FROM territorio.changes WHERE layer = $1 AND seq = ANY($2)",
            &[&layer, &wanted],
        )
        .map_err(|e| pg_error(&place, e))?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let seq: i64 = row.get(0);
        let corrupt = |reason: String| StoreError::Postgres {
            place: place.clone(),
            transient: false,
            reason: format!("change {seq}: {reason}"),
        };
        let properties: Option<String> = row.get(2);
        let geometry: Option<Vec<u8>> = row.get(3);
        let after = match (properties, geometry) {
            (Some(p), Some(g)) => Some(Feature {
                id: parse_id(&row.get::<_, String>(1)).map_err(corrupt)?,
                geometry: wkb::decode(&g)
                    .map_err(|e| corrupt(format!("geometry: {e}")))?
                    .geometry,
                values: parse_properties(fields, &p)
                    .map_err(corrupt)?
                    .into_boxed_slice(),
                invalid: None,
            }),
            (None, None) => None,
            _ => {
                return Err(corrupt(
                    "it has properties after it but no geometry, or the reverse".into(),
                ))
            }
        };
        out.insert(seq, after);
    }
    Ok(out)
}

/// A change's time as territorio writes it: RFC 3339 in UTC, to the second.
macro_rules! at_text {
    () => {
        "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    };
}
const AT_TEXT: &str = at_text!();

/// The columns of a change as the readers of `changes` decode them, in order.
const CHANGE_COLUMNS: &str = concat!(
    "seq, ",
    at_text!(),
    ", username, layer, feature, operation, before_properties::text, \
     ST_AsBinary(before_geometry), after_properties::text, ST_AsBinary(after_geometry)"
);

/// How many changes [`read_changes`] reads per statement.
const CHUNK: i64 = 1000;

/// The changes after `since`, in `seq` order, read in pieces of [`CHUNK`] within the caller's
/// transaction (one snapshot, or the write lock held: nothing commits in between).
///
/// Each piece is `ORDER BY seq LIMIT n`, which the planner answers from the primary key's index
/// whatever its statistics say: without the limit, statistics gathered when the table was
/// small (or none yet) made it scan the whole table for what is usually no row at all (20 ms
/// per batch at ten thousand changes, growing with the log).
fn read_changes(
    tx: &mut postgres::Transaction<'_>,
    place: &str,
    since: u64,
    fields_of: &dyn Fn(&str) -> Option<Vec<Field>>,
) -> Result<Vec<Recorded>, StoreError> {
    let mut out = Vec::new();
    let mut after = since as i64;
    loop {
        let rows = tx
            .query(
                &format!(
                    "SELECT {CHANGE_COLUMNS}
                     FROM territorio.changes WHERE seq > $1 ORDER BY seq LIMIT $2"
                ),
                &[&after, &CHUNK],
            )
            .map_err(|e| pg_error(place, e))?;
        for row in &rows {
            after = row.get(0);
            if let Some(r) = recorded(row, place, fields_of)? {
                out.push(r);
            }
        }
        if (rows.len() as i64) < CHUNK {
            return Ok(out);
        }
    }
}

/// A row of `changes` (the columns of [`read_changes`]); `None` for a layer `fields_of` does
/// not know (a layer this server does not serve: skipped, not misread).
fn recorded(
    row: &postgres::Row,
    place: &str,
    fields_of: &dyn Fn(&str) -> Option<Vec<Field>>,
) -> Result<Option<Recorded>, StoreError> {
    let seq: i64 = row.get(0);
    let layer: String = row.get(3);
    let corrupt = |reason: String| StoreError::Postgres {
        place: place.to_string(),
        transient: false,
        reason: format!("change {seq}: {reason}"),
    };
    let Some(fields) = fields_of(&layer) else {
        return Ok(None);
    };
    let state =
        |props: Option<String>, geom: Option<Vec<u8>>| -> Result<Option<State>, StoreError> {
            match (props, geom) {
                (Some(p), Some(g)) => Ok(Some(State {
                    values: parse_properties(&fields, &p).map_err(corrupt)?,
                    geometry: wkb::decode(&g)
                        .map_err(|e| corrupt(format!("geometry: {e}")))?
                        .geometry,
                })),
                _ => Ok(None),
            }
        };
    let operation: String = row.get(5);
    Ok(Some(Recorded {
        seq: seq as u64,
        change: Change {
            feature: parse_id(&row.get::<_, String>(4)).map_err(corrupt)?,
            operation: Operation::parse(&operation)
                .ok_or_else(|| corrupt(format!("unknown operation {operation:?}")))?,
            at: row.get(1),
            user: row.get(2),
            before: state(row.get(6), row.get(7))?,
            after: state(row.get(8), row.get(9))?,
            layer,
        },
    }))
}

/// A feature's state as written: properties (JSON text) and geometry (WKB).
type StoredState = (String, Vec<u8>);

/// Records `changes` (in order) and applies them to `features`, in a few statements whatever
/// their number: their sequence numbers taken at once (in order: the caller holds the
/// [`WRITE_LOCK`], so no other session takes any meanwhile), the changes inserted from arrays,
/// then each feature's last state upserted, or deleted. Returns each change's `seq`.
fn write_changes(
    tx: &mut postgres::Transaction<'_>,
    srid: i32,
    fields_of: &dyn Fn(&str) -> Option<Vec<Field>>,
    changes: &[Change],
) -> Result<Vec<u64>, postgres::Error> {
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let mut seqs: Vec<i64> = tx
        .query(
            "SELECT nextval(pg_get_serial_sequence('territorio.changes', 'seq'))
             FROM generate_series(1, $1::int)",
            &[&(changes.len() as i32)],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    seqs.sort_unstable();
    let n = changes.len();
    let (mut at, mut user, mut layer, mut feature, mut op) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut before_p, mut before_g, mut after_p, mut after_g) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    // The last state of each feature: (layer, id) -> (seq, properties and geometry or deleted).
    let mut last: HashMap<(String, String), (i64, Option<StoredState>)> = HashMap::new();
    for (change, seq) in changes.iter().zip(&seqs) {
        let fields = fields_of(&change.layer).unwrap_or_default();
        let props = |s: &Option<State>| s.as_ref().map(|s| properties_text(&fields, &s.values));
        let geom = |s: &Option<State>| s.as_ref().map(|s| wkb::encode(&s.geometry));
        let id = change.feature.to_json().to_string();
        at.push(change.at.clone());
        user.push(change.user.clone());
        layer.push(change.layer.clone());
        feature.push(id.clone());
        op.push(change.operation.name().to_string());
        before_p.push(props(&change.before));
        before_g.push(geom(&change.before));
        let after = props(&change.after).zip(geom(&change.after));
        after_p.push(after.as_ref().map(|a| a.0.clone()));
        after_g.push(after.as_ref().map(|a| a.1.clone()));
        last.insert((change.layer.clone(), id), (*seq, after));
    }
    tx.execute(
        "INSERT INTO territorio.changes (seq, at, username, layer, feature, operation,
             before_properties, before_geometry, after_properties, after_geometry)
         SELECT c.seq, c.at::timestamptz, c.username, c.layer, c.feature, c.operation,
             c.bp::jsonb, ST_GeomFromWKB(c.bg, $11), c.ap::jsonb, ST_GeomFromWKB(c.ag, $11)
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::bytea[], $9::text[], $10::bytea[])
              AS c(seq, at, username, layer, feature, operation, bp, bg, ap, ag)",
        &[
            &seqs, &at, &user, &layer, &feature, &op, &before_p, &before_g, &after_p, &after_g,
            &srid,
        ],
    )?;
    let (mut up_layer, mut up_id, mut up_rev, mut up_geom, mut up_props) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut gone_layer, mut gone_id) = (Vec::new(), Vec::new());
    for ((l, id), (seq, state)) in last {
        match state {
            Some((props, geom)) => {
                up_layer.push(l);
                up_id.push(id);
                up_rev.push(seq);
                up_geom.push(geom);
                up_props.push(props);
            }
            None => {
                gone_layer.push(l);
                gone_id.push(id);
            }
        }
    }
    if !up_id.is_empty() {
        tx.execute(
            "INSERT INTO territorio.features (layer, id, rev, geometry, properties)
             SELECT u.layer, u.id, u.rev, ST_GeomFromWKB(u.geom, $6), u.props::jsonb
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::text[])
                  AS u(layer, id, rev, geom, props)
             ON CONFLICT (layer, id) DO UPDATE SET
                 rev = excluded.rev, geometry = excluded.geometry,
                 properties = excluded.properties",
            &[&up_layer, &up_id, &up_rev, &up_geom, &up_props, &srid],
        )?;
    }
    if !gone_id.is_empty() {
        tx.execute(
            "DELETE FROM territorio.features f USING unnest($1::text[], $2::text[]) AS d(layer, id)
             WHERE f.layer = d.layer AND f.id = d.id",
            &[&gone_layer, &gone_id],
        )?;
    }
    Ok(seqs.into_iter().map(|s| s as u64).collect())
}

fn insert_change(
    tx: &mut postgres::Transaction<'_>,
    srid: i32,
    fields: &[Field],
    change: &Change,
) -> Result<u64, postgres::Error> {
    let props = |s: &Option<State>| s.as_ref().map(|s| properties_text(fields, &s.values));
    let geom = |s: &Option<State>| s.as_ref().map(|s| wkb::encode(&s.geometry));
    let row = tx.query_one(
        "INSERT INTO territorio.changes (at, username, layer, feature, operation,
             before_properties, before_geometry, after_properties, after_geometry)
         VALUES ($1::text::timestamptz, $2, $3, $4, $5,
             $6::text::jsonb, ST_GeomFromWKB($7, $10), $8::text::jsonb, ST_GeomFromWKB($9, $10))
         RETURNING seq",
        &[
            &change.at,
            &change.user,
            &change.layer,
            &change.feature.to_json().to_string(),
            &change.operation.name(),
            &props(&change.before),
            &geom(&change.before),
            &props(&change.after),
            &geom(&change.after),
            &srid,
        ],
    )?;
    Ok(row.get::<_, i64>(0) as u64)
}

fn upsert_feature(
    tx: &mut postgres::Transaction<'_>,
    srid: i32,
    layer: &str,
    id: &FeatureId,
    rev: u64,
    geometry: &Geometry<f64>,
    properties: &str,
) -> Result<(), postgres::Error> {
    tx.execute(
        "INSERT INTO territorio.features (layer, id, rev, geometry, properties)
         VALUES ($1, $2, $3, ST_GeomFromWKB($4, $6), $5::text::jsonb)
         ON CONFLICT (layer, id) DO UPDATE SET
             rev = excluded.rev, geometry = excluded.geometry, properties = excluded.properties",
        &[
            &layer,
            &id.to_json().to_string(),
            &(rev as i64),
            &wkb::encode(geometry),
            &properties,
            &srid,
        ],
    )?;
    Ok(())
}

/// The connection string as shown in messages: keywords other than `password` (the catalogue
/// refuses a password anyway), a URI without its user information.
fn safe_dsn(dsn: &str) -> String {
    let dsn = dsn.trim();
    if let Some((scheme, rest)) = dsn.split_once("://") {
        let rest = match rest.split_once('@') {
            Some((_, host)) => host,
            None => rest,
        };
        return format!("{scheme}://{rest}");
    }
    dsn.split_whitespace()
        .filter(|w| !w.starts_with("password"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_no_credentials() {
        assert_eq!(
            safe_dsn("host=/tmp dbname=ptcp password=x user=gis"),
            "host=/tmp dbname=ptcp user=gis"
        );
        assert_eq!(
            safe_dsn("postgresql://gis:x@db.local/ptcp"),
            "postgresql://db.local/ptcp"
        );
    }
}
