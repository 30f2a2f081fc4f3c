//! Layers read from a PostGIS table or view, through GDAL's PostgreSQL driver (libpq).
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
//! Cost: one pass over the table with GDAL's cursor (rows fetched in batches, geometries as
//! binary WKB decoded by [`super::wkb`]), plus the checks: catalogue lookups, and for an
//! unconstrained column one `DISTINCT ST_SRID` scan.

use std::path::{Path, PathBuf};

use gdal::vector::sql::Dialect;
use gdal::vector::LayerAccess;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use super::{read_layer, ReadOptions, SourceData, SourceError};

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
    let origin = table.origin();
    let fail = |reason: String| SourceError::Open {
        path: origin.clone(),
        reason,
    };
    let (schema, name) = split_name(table.name);

    // A first connection for the checks, with no table listed (so that opening does not scan
    // the database's tables).
    let dataset = open(table.dsn, None).map_err(|e| fail(connect_reason(&e)))?;
    let rows = |sql: &str| query(&dataset, sql).map_err(&fail);

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
                    path: origin.clone(),
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
                        path: origin.clone(),
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
    drop(dataset);

    let listed = format!("{}.{}({})", schema, name, column);
    let dataset = open(table.dsn, Some(&listed)).map_err(|e| fail(connect_reason(&e)))?;
    let mut layer = dataset.layer(0).map_err(|e| fail(e.to_string()))?;
    let options = ReadOptions {
        layer: None,
        id_field: id_field.as_deref(),
        crs: Some(&crs),
    };
    let mut data = read_layer(&mut layer, &origin, "PostgreSQL".into(), &options)?;
    data.layer_name = table.name.to_string();
    if integer_key {
        data.features.sort_by_key(|f| f.fid);
    } else {
        data.features.sort_by(|a, b| a.id.cmp(&b.id));
    }
    Ok(data)
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
