//! Layers read from a PostGIS table or view: a few checks, then the features with one binary
//! `COPY` decoded here ([`super::pgcopy`], [`super::wkb`]), both over one connection of the
//! `postgres` crate; or the checks and the features through GDAL's PostgreSQL driver (libpq)
//! when the connection string needs libpq, or `COPY` cannot be used as GDAL would read.
//!
//! Before reading, the table is checked with a few catalogue queries so that each mistake a
//! planner can make gets its own message naming the table: a connection that fails (libpq's
//! reason), a database without the PostGIS extension, a table that does not exist (with the
//! tables that do have geometry), a table with no geometry column or with several and none
//! chosen, a geometry column whose rows mix SRIDs, a view (or a table without a one-column
//! primary key) with no `id_field` to give its features stable ids.
//!
//! Ids: a one-column integer primary key is GDAL's FID, and the feature id, as a GeoPackage's
//! `fid`; a one-column text primary key is the id field when the catalogue names none. A table
//! has no order of its own: the features are served in the order of the integer primary key
//! (the file's order, for a table loaded with `ogr2ogr -preserve_fid`), or else of their ids.
//!
//! The CRS is the column's SRID looked up in `spatial_ref_sys` (`EPSG:3003`); an
//! unconstrained column (SRID 0 in `geometry_columns`) takes the one SRID its rows carry.
//!
//! The features: `COPY (SELECT key, fields, ST_AsBinary(geom) FROM table) TO STDOUT (FORMAT
//! binary)` over a connection of the `postgres` crate, each value read from its binary form
//! by its type ([`super::pgcopy`] says how), with the fields GDAL would list (every column but
//! the geometries and the integer key) and the same types. GDAL's cursor (500 rows a `FETCH`)
//! reads the layer instead, with a line in the log saying why, when a column is of a type
//! not decoded here (`time`, arrays, `json`, `uuid`, `char(n)`, domains...), when a table
//! without an integer key has an `ogc_fid` column (GDAL's feature number), or when the
//! connection string leaves the host, user or database to libpq's defaults or environment, or
//! needs what only libpq does (`service=`, `~/.pgpass`, TLS that is required).
//!
//! Cost: one connection, the checks (catalogue lookups, and for an unconstrained column one
//! `DISTINCT ST_SRID` scan), then one pass over the table in one statement: the server's scan
//! and encoding, one message a row, decoded as it arrives. (Opening the database through GDAL
//! for the checks alone, as this module first did, cost 26 to 40 ms of a 100,000-zone load:
//! GDAL's driver looks up the server's types and PostGIS's version on opening.)

use std::path::{Path, PathBuf};

use gdal::vector::sql::Dialect;
use gdal::vector::LayerAccess;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use geo::{CoordsIter, Geometry, GeometryCollection};

use super::pgcopy::{self, CopyReader, Kind};
use super::{read_layer, wkb, RawFeature, ReadOptions, SourceData, SourceError};
use crate::feature::{FeatureId, Field, Interner, Value};

/// Where a table layer is: the libpq connection string, the table as the catalogue names it
/// (`schema.table` or `table`), and its geometry column when it has several.
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    pub dsn: &'a str,
    pub name: &'a str,
    pub geometry_column: Option<&'a str>,
}

impl Table<'_> {
    /// How the table is named in messages.
    pub fn origin(&self) -> PathBuf {
        PathBuf::from(format!("PostgreSQL table {}", self.name))
    }
}

/// Reads a whole table or view. `options.layer` is not used (the table is the layer).
pub fn read(table: &Table<'_>, options: &ReadOptions<'_>) -> Result<SourceData, SourceError> {
    read_via(table, options, Via::Best)
}

/// Reads a whole table or view, its features read as `via` says.
///
/// The checks and `COPY` share one connection of the `postgres` crate when the connection
/// string allows one ([`connect`]); otherwise the checks go through GDAL's libpq, and the
/// features through GDAL's cursor.
pub fn read_via(
    table: &Table<'_>,
    options: &ReadOptions<'_>,
    via: Via,
) -> Result<SourceData, SourceError> {
    let origin = table.origin();
    let fail = |reason: String| SourceError::Open {
        path: origin.clone(),
        reason,
    };
    let why = if via == Via::Gdal {
        None
    } else {
        // On a thread of its own: the `postgres` client runs a runtime of its own, which
        // cannot be started from a thread of an async runtime (a reload, a test).
        let outcome = std::thread::scope(|scope| {
            scope
                .spawn(|| read_with_client(table, options, &origin))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        match outcome {
            Copied::Read(data) => return data,
            Copied::Checked(checked, why) => {
                if via == Via::Copy {
                    return Err(fail(format!("cannot read with COPY: {why}")));
                }
                tracing::info!("{}: read through GDAL's cursor ({why})", origin.display());
                return read_with_gdal(table, &origin, &checked);
            }
            Copied::NoConnection(why) => Some(why),
        }
    };

    // A first connection for the checks, with no table listed (so that opening does not scan
    // the database's tables).
    let dataset = open(table.dsn, None).map_err(|e| fail(connect_reason(&e)))?;
    let checked = check(table, options, &origin, &mut |sql| {
        query(&dataset, sql).map_err(&fail)
    })?;
    drop(dataset);
    if let Some(why) = why {
        let why = format!("the connection for COPY: {why}");
        if via == Via::Copy {
            return Err(fail(format!("cannot read with COPY: {why}")));
        }
        tracing::info!("{}: read through GDAL's cursor ({why})", origin.display());
    }
    read_with_gdal(table, &origin, &checked)
}

/// What [`read_with_client`] came to.
enum Copied {
    /// The layer read with `COPY` (or the error of its checks or of reading it).
    Read(Result<SourceData, SourceError>),
    /// Checked, but `COPY` would not read it as GDAL does: why.
    Checked(Checked, String),
    /// No connection of the `postgres` crate: why.
    NoConnection(String),
}

/// The checks and the binary `COPY` over one connection of the `postgres` crate.
fn read_with_client(table: &Table<'_>, options: &ReadOptions<'_>, origin: &Path) -> Copied {
    let mut client = match connect(table.dsn) {
        Ok(client) => client,
        Err(why) => return Copied::NoConnection(why),
    };
    let fail = |reason: String| SourceError::Open {
        path: origin.to_path_buf(),
        reason,
    };
    let checked = match check(table, options, origin, &mut |sql| {
        simple_rows(&mut client, sql).map_err(&fail)
    }) {
        Ok(checked) => checked,
        Err(e) => return Copied::Read(Err(e)),
    };
    let key_column = checked.key_column();
    match plan(
        &checked.attributes,
        &checked.column,
        key_column.map(|(k, _)| k),
    ) {
        Err(why) => Copied::Checked(checked, why),
        Ok((fields, kinds)) => {
            let found = Found {
                origin,
                relation: &checked.relation,
                column: &checked.column,
                key: key_column,
                id_field: checked.id_field.as_deref(),
                crs: &checked.crs,
                layer_name: table.name,
            };
            Copied::Read(read_copy(&mut client, &found, fields, &kinds))
        }
    }
}

/// The features through GDAL's cursor, once checked.
fn read_with_gdal(
    table: &Table<'_>,
    origin: &Path,
    checked: &Checked,
) -> Result<SourceData, SourceError> {
    let fail = |reason: String| SourceError::Open {
        path: origin.to_path_buf(),
        reason,
    };
    let listed = format!("{}.{}({})", checked.schema, checked.name, checked.column);
    let dataset = open(table.dsn, Some(&listed)).map_err(|e| fail(connect_reason(&e)))?;
    let mut layer = dataset.layer(0).map_err(|e| fail(e.to_string()))?;
    let options = ReadOptions {
        layer: None,
        id_field: checked.id_field.as_deref(),
        crs: Some(&checked.crs),
    };
    let mut data = read_layer(&mut layer, origin, "PostgreSQL".into(), &options)?;
    data.layer_name = table.name.to_string();
    sort(&mut data.features, checked.integer_key);
    Ok(data)
}

/// Rows of text from a query (the checks' catalogue lookups), for one connection or another.
type Rows = Vec<Vec<Option<String>>>;

/// What the checks found out about a table.
struct Checked {
    schema: String,
    name: String,
    /// The geometry column.
    column: String,
    /// The quoted `schema.table`.
    relation: String,
    crs: String,
    /// The one-column primary key and its type name.
    key: Option<(String, String)>,
    integer_key: bool,
    id_field: Option<String>,
    /// Every column: name, type OID, type name, type modifier, in order.
    attributes: Rows,
}

impl Checked {
    /// The integer primary key, the features' numbers, and its binary kind.
    fn key_column(&self) -> Option<(&str, Kind)> {
        self.key
            .as_ref()
            .filter(|_| self.integer_key)
            .map(|(k, ty)| {
                let kind = match ty.as_str() {
                    "int2" => Kind::Int2,
                    "int4" => Kind::Int4,
                    _ => Kind::Int8,
                };
                (k.as_str(), kind)
            })
    }
}

/// The checks of the module's documentation, each query through `rows`.
fn check(
    table: &Table<'_>,
    options: &ReadOptions<'_>,
    origin: &Path,
    rows: &mut dyn FnMut(&str) -> Result<Rows, SourceError>,
) -> Result<Checked, SourceError> {
    let fail = |reason: String| SourceError::Open {
        path: origin.to_path_buf(),
        reason,
    };
    let (schema, name) = split_name(table.name);
    if rows("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")?.is_empty() {
        return Err(fail(
            "the database has no PostGIS extension (CREATE EXTENSION postgis)".into(),
        ));
    }
    let quoted = match schema {
        Some(schema) => format!("{}.{}", ident(schema), ident(name)),
        None => ident(name),
    };
    let found = rows(&format!(
        "SELECT n.nspname, c.relname, c.relkind::text, c.oid::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass({})",
        literal(&quoted)
    ))?;
    let Some([Some(schema), Some(name), Some(kind), Some(oid)]) = found
        .first()
        .and_then(|r| <[Option<String>; 4]>::try_from(r.clone()).ok())
    else {
        let listed = rows(
            "SELECT f_table_schema || '.' || f_table_name FROM geometry_columns \
             ORDER BY 1 LIMIT 20",
        )?;
        let listed: Vec<String> = listed.into_iter().filter_map(|r| r[0].clone()).collect();
        return Err(fail(format!(
            "no such table or view (tables with geometry: {})",
            if listed.is_empty() {
                "none".to_string()
            } else {
                listed.join(", ")
            }
        )));
    };

    let columns = rows(&format!(
        "SELECT f_geometry_column, srid::text FROM geometry_columns \
         WHERE f_table_schema = {} AND f_table_name = {} ORDER BY 1",
        literal(&schema),
        literal(&name)
    ))?;
    let names: Vec<String> = columns.iter().filter_map(|r| r[0].clone()).collect();
    let (column, srid) = match (table.geometry_column, columns.len()) {
        (_, 0) => return Err(fail("no geometry column".into())),
        (None, 1) => (names[0].clone(), columns[0][1].clone()),
        (None, _) => {
            return Err(fail(format!(
                "several geometry columns ({}): set geometry_column in the catalogue",
                names.join(", ")
            )))
        }
        (Some(wanted), _) => match columns.iter().find(|r| r[0].as_deref() == Some(wanted)) {
            Some(r) => (wanted.to_string(), r[1].clone()),
            None => {
                return Err(fail(format!(
                    "no geometry column {wanted:?} (it has: {})",
                    names.join(", ")
                )))
            }
        },
    };
    let relation = format!("{}.{}", ident(&schema), ident(&name));

    let crs = match options.crs {
        Some(crs) => crate::crs::normalize(crs),
        None => {
            let mut srid: i64 = srid.and_then(|s| s.parse().ok()).unwrap_or(0);
            if srid == 0 {
                // An unconstrained column: the SRID its rows carry, which must be one.
                let srids = rows(&format!(
                    "SELECT DISTINCT ST_SRID({c})::text FROM {relation} WHERE {c} IS NOT NULL \
                     ORDER BY 1 LIMIT 5",
                    c = ident(&column)
                ))?;
                let srids: Vec<String> = srids.into_iter().filter_map(|r| r[0].clone()).collect();
                if srids.len() > 1 {
                    return Err(fail(format!(
                        "geometry column {column:?} mixes SRIDs ({}): give the column one SRID \
                         (ALTER TABLE ... ALTER COLUMN ... TYPE geometry(..., SRID) USING \
                         ST_Transform(...))",
                        srids.join(", ")
                    )));
                }
                srid = srids.first().and_then(|s| s.parse().ok()).unwrap_or(0);
            }
            if srid == 0 {
                return Err(SourceError::NoCrs {
                    path: origin.to_path_buf(),
                    layer: column.clone(),
                });
            }
            let auth = rows(&format!(
                "SELECT auth_name, auth_srid::text FROM spatial_ref_sys WHERE srid = {srid}"
            ))?;
            match auth.first() {
                Some(r) if r[0].is_some() && r[1].is_some() => crate::crs::normalize(&format!(
                    "{}:{}",
                    r[0].as_deref().unwrap_or_default(),
                    r[1].as_deref().unwrap_or_default()
                )),
                _ => {
                    return Err(SourceError::Crs {
                        path: origin.to_path_buf(),
                        reason: format!("SRID {srid} is not in spatial_ref_sys"),
                    })
                }
            }
        }
    };

    // Ids: a one-column primary key, or the catalogue's id_field.
    let key = rows(&format!(
        "SELECT a.attname, t.typname FROM pg_index i \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
         JOIN pg_type t ON t.oid = a.atttypid \
         WHERE i.indrelid = {oid}::oid AND i.indisprimary"
    ))?;
    let key = match key.as_slice() {
        [one] => one[0].clone().zip(one[1].clone()),
        _ => None,
    };
    let integer_key = key
        .as_ref()
        .is_some_and(|(_, ty)| matches!(ty.as_str(), "int2" | "int4" | "int8"));
    let id_field = match (options.id_field, &key) {
        (Some(field), _) => Some(field.to_string()),
        (None, Some(_)) if integer_key => None,
        (None, Some((column, _))) => Some(column.clone()),
        (None, None) => {
            let what = if kind == "v" || kind == "m" {
                "a view has no primary key"
            } else {
                "the table has no one-column primary key"
            };
            return Err(fail(format!(
                "{what}: set id_field in the catalogue to a column with unique values, so \
                 that features keep their ids"
            )));
        }
    };
    let attributes = rows(&format!(
        "SELECT a.attname, a.atttypid::text, t.typname, a.atttypmod::text FROM pg_attribute a \
         JOIN pg_type t ON t.oid = a.atttypid \
         WHERE a.attrelid = {oid}::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
    ))?;
    Ok(Checked {
        schema,
        name,
        column,
        relation,
        crs,
        key,
        integer_key,
        id_field,
        attributes,
    })
}

/// Runs a query over the `postgres` connection and returns its rows as text (`None` for SQL
/// null), as [`query`] does through GDAL.
fn simple_rows(client: &mut postgres::Client, sql: &str) -> Result<Rows, String> {
    let messages = client
        .simple_query(sql)
        .map_err(|e| format!("query failed: {}", pg_reason(&e)))?;
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect())
}

/// How a layer's features are read, once the checks have passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Binary `COPY` when it reads the layer as GDAL would (the module's documentation says
    /// when it does not), else GDAL's cursor.
    Best,
    /// Binary `COPY` only: an error when it cannot be used.
    Copy,
    /// GDAL's PostgreSQL driver.
    Gdal,
}

/// The features in the table's order: that of the integer primary key, or else of the ids.
fn sort(features: &mut [RawFeature], integer_key: bool) {
    if integer_key {
        features.sort_by_key(|f| f.fid);
    } else {
        features.sort_by(|a, b| a.id.cmp(&b.id));
    }
}

/// What the checks found: the table, its geometry column, key, id field and CRS.
struct Found<'a> {
    origin: &'a Path,
    /// The quoted `schema.table`.
    relation: &'a str,
    column: &'a str,
    /// The one-column integer primary key, the features' numbers, and its kind.
    key: Option<(&'a str, Kind)>,
    id_field: Option<&'a str>,
    crs: &'a str,
    layer_name: &'a str,
}

/// The fields read with `COPY` and the binary kind of each, from the table's columns (name,
/// type OID, type name, type modifier, in order): every column but the geometries and the integer key, as
/// GDAL lists them. `Err` names what `COPY` does not read as GDAL does: a column of a type not
/// decoded here ([`Kind`]), or an `ogc_fid` column without a key (GDAL takes it as the
/// feature number).
fn plan(
    attributes: &[Vec<Option<String>>],
    geometry: &str,
    key: Option<&str>,
) -> Result<(Vec<Field>, Vec<Kind>), String> {
    let mut fields = Vec::new();
    let mut kinds = Vec::new();
    for row in attributes {
        let [Some(name), Some(oid), Some(type_name), Some(typmod)] = row.as_slice() else {
            return Err("a column without a name or type".into());
        };
        if name == geometry || type_name == "geometry" || Some(name.as_str()) == key {
            continue;
        }
        if key.is_none() && name == "ogc_fid" {
            return Err("a column ogc_fid and no integer key".into());
        }
        let kind = oid
            .parse()
            .ok()
            .zip(typmod.parse().ok())
            .and_then(|(oid, typmod)| Kind::from_column(oid, typmod))
            .ok_or_else(|| format!("column {name:?} is of type {type_name}"))?;
        fields.push(Field {
            name: name.clone(),
            ty: kind.field_type(),
        });
        kinds.push(kind);
    }
    Ok((fields, kinds))
}

/// A connection of the `postgres` crate for `COPY`, when the connection string names the
/// host, user and database itself: libpq's defaults and environment (`PGHOST`, `PGDATABASE`,
/// `service=`, `~/.pgpass`, TLS that is required) are left to GDAL's libpq, so that `COPY` never
/// reads another database than the checks did. No TLS (as the store of edits): over TCP,
/// `sslmode=require` makes the connection fail here, and the layer is read through GDAL.
fn connect(dsn: &str) -> Result<postgres::Client, String> {
    let mut config: postgres::Config = dsn.parse().map_err(|e| format!("{e}"))?;
    if config.get_hosts().is_empty() || config.get_user().is_none() {
        return Err("the connection string does not name the host and user".into());
    }
    if config.get_dbname().is_none() {
        return Err("the connection string does not name the database".into());
    }
    if config.get_ports().is_empty() && std::env::var_os("PGPORT").is_some() {
        return Err("the port comes from PGPORT".into());
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(5));
    }
    if config.get_password().is_none() {
        if let Ok(password) = std::env::var("PGPASSWORD") {
            config.password(password);
        }
    }
    config.connect(postgres::NoTls).map_err(|e| e.to_string())
}

/// Reads the features with one `COPY (SELECT key, fields, ST_AsBinary(geometry)) TO STDOUT
/// (FORMAT binary)`, decoded by [`super::pgcopy`] and [`super::wkb`].
fn read_copy(
    client: &mut postgres::Client,
    found: &Found<'_>,
    fields: Vec<Field>,
    kinds: &[Kind],
) -> Result<SourceData, SourceError> {
    let origin = found.origin;
    let fail = |reason: String| SourceError::Open {
        path: origin.to_path_buf(),
        reason,
    };
    let id_index = match found.id_field {
        None => None,
        Some(name) => Some(fields.iter().position(|f| f.name == name).ok_or_else(|| {
            SourceError::NoIdField {
                path: origin.to_path_buf(),
                layer: found.layer_name.to_string(),
                field: name.to_string(),
                available: fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })?),
    };

    let mut select: Vec<String> = found.key.map(|(k, _)| ident(k)).into_iter().collect();
    select.extend(fields.iter().map(|f| ident(&f.name)));
    select.push(format!("ST_AsBinary({})", ident(found.column)));
    let sql = format!(
        "COPY (SELECT {} FROM {}) TO STDOUT (FORMAT binary)",
        select.join(", "),
        found.relation
    );
    let stream = client
        .copy_out(sql.as_str())
        .map_err(|e| fail(format!("query failed: {}", pg_reason(&e))))?;
    let width = select.len();
    let first = usize::from(found.key.is_some());
    let mut rows =
        CopyReader::new(stream, width).map_err(|e| fail(format!("reading the table: {e}")))?;

    let mut features = Vec::new();
    // One per field: a field of names, all different, fills its own table, not the others'.
    let mut interners: Vec<Interner> = kinds.iter().map(|_| Interner::default()).collect();
    let mut ordinal: i64 = 0;
    loop {
        let row = match rows.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => return Err(fail(format!("reading the table: {e}"))),
        };
        let fid = match found.key {
            Some((_, kind)) => match pgcopy::value(kind, row.get(0)) {
                Ok(Value::Int(fid)) => fid,
                Ok(_) => return Err(fail(format!("row {ordinal}: a null key"))),
                Err(e) => return Err(fail(format!("row {ordinal}: the key: {e}"))),
            },
            None => ordinal,
        };
        ordinal += 1;
        let feature_error = |reason: String| SourceError::Feature {
            path: origin.to_path_buf(),
            fid: fid.to_string(),
            reason,
        };
        let mut values = Vec::with_capacity(kinds.len());
        for (i, kind) in kinds.iter().enumerate() {
            let value = pgcopy::value_in(*kind, row.get(first + i), &mut interners[i])
                .map_err(|e| feature_error(format!("field {:?}: {e}", fields[i].name)))?;
            values.push(value);
        }
        let id = match id_index {
            None => FeatureId::Int(fid),
            Some(i) => match &values[i] {
                Value::Int(v) => FeatureId::Int(*v),
                Value::Null => {
                    return Err(feature_error(format!(
                        "id field {:?} is empty",
                        fields[i].name
                    )))
                }
                other => FeatureId::Str(other.to_string().into()),
            },
        };
        let missing = || {
            (
                Geometry::GeometryCollection(GeometryCollection(vec![])),
                Some("empty or missing geometry".to_string()),
            )
        };
        let (geometry, problem) = match row.get(width - 1) {
            None => missing(),
            Some(bytes) => {
                let decoded = wkb::decode(bytes).map_err(|e| feature_error(e.to_string()))?;
                if is_empty(&decoded.geometry) {
                    missing()
                } else {
                    (decoded.geometry, decoded.ring_problem)
                }
            }
        };
        features.push(RawFeature {
            id,
            fid,
            geometry,
            values,
            problem,
        });
    }
    sort(&mut features, found.key.is_some());
    Ok(SourceData {
        layer_name: found.layer_name.to_string(),
        driver: "PostgreSQL".into(),
        crs: found.crs.to_string(),
        fields,
        features,
    })
}

/// Whether a geometry has no coordinates, as GDAL's `IsEmpty` sees it: no points at all, or a
/// point whose coordinates are both NaN (how WKB writes `POINT EMPTY`).
fn is_empty(geometry: &Geometry<f64>) -> bool {
    match geometry {
        Geometry::Point(p) => p.x().is_nan() && p.y().is_nan(),
        g => g.coords_count() == 0,
    }
}

/// The server's message for a failed statement, or the client's.
fn pg_reason(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

/// `schema.table` split at its first dot; a name without one is looked up in the search path.
fn split_name(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((schema, table)) => (Some(schema), table),
        None => (None, name),
    }
}

/// Opens the database with GDAL; `table` (`schema.table(column)`) limits the layers to one.
fn open(dsn: &str, table: Option<&str>) -> gdal::errors::Result<Dataset> {
    let name = format!("PG:{dsn}");
    let tables = table.map(|t| format!("TABLES={t}"));
    let open_options: Vec<&str> = tables.iter().map(String::as_str).collect();
    Dataset::open_ex(
        Path::new(&name),
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            allowed_drivers: Some(&["PostgreSQL"]),
            open_options: Some(&open_options),
            ..Default::default()
        },
    )
}

/// libpq's reason for a failed connection, without GDAL's prefix.
fn connect_reason(error: &gdal::errors::GdalError) -> String {
    let text = error.to_string();
    format!("cannot connect: {}", text.trim())
}

/// Runs a query and returns its rows as text (`None` for SQL null).
fn query(dataset: &Dataset, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    let result = dataset
        .execute_sql(sql, None, Dialect::DEFAULT)
        .map_err(|e| format!("query failed: {e}"))?;
    let Some(mut result) = result else {
        return Ok(Vec::new());
    };
    let width = result.defn().fields().count();
    let mut rows = Vec::new();
    for feature in result.features() {
        let mut row = Vec::with_capacity(width);
        for i in 0..width {
            row.push(feature.field_as_string(i).map_err(|e| e.to_string())?);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// A quoted SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A quoted SQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_the_first_dot() {
        assert_eq!(split_name("ptcp.zones"), (Some("ptcp"), "zones"));
        assert_eq!(split_name("zones"), (None, "zones"));
    }

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(ident("Zone \"A\""), "\"Zone \"\"A\"\"\"");
        assert_eq!(literal("l'area"), "'l''area'");
    }
}
