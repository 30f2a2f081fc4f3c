//! The records both stores of edits keep, the SQLite one ([`super::store`]) and the PostgreSQL
//! one ([`super::pg`]): a change, its operation and the states before and after it, what a read
//! of the history asks for, how ids and properties are written as text, and what can go wrong.

use std::path::PathBuf;

use geo::Geometry;
use serde_json::{Map, Value as Json};

use crate::feature::{FeatureId, Field, FieldType, Value};

/// What went wrong with the store; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("data folder {dir}: {reason}")]
    Folder { dir: PathBuf, reason: String },
    #[error("store {file}: {source}")]
    Sqlite {
        file: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("store {file}: {reason}")]
    Corrupt { file: PathBuf, reason: String },
    /// The PostgreSQL store ([`super::pg`]); `transient` when the server could not be reached.
    #[error("store {place}: {reason}")]
    Postgres {
        place: String,
        reason: String,
        transient: bool,
    },
}

impl StoreError {
    /// Whether the failure is one of the machine (disk full, read-only, locked) rather than of
    /// the data: the write may succeed later.
    pub fn is_transient(&self) -> bool {
        use rusqlite::ErrorCode::*;
        match self {
            StoreError::Sqlite { source, .. } => matches!(
                source.sqlite_error_code(),
                Some(
                    DatabaseBusy
                        | DatabaseLocked
                        | DiskFull
                        | ReadOnly
                        | SystemIoFailure
                        | CannotOpen
                )
            ),
            StoreError::Folder { .. } => true,
            StoreError::Corrupt { .. } => false,
            StoreError::Postgres { transient, .. } => *transient,
        }
    }
}

/// An operation recorded in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// The feature came from the layer's source when the store was made.
    Import,
    Create,
    Replace,
    Update,
    Delete,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Import => "import",
            Operation::Create => "create",
            Operation::Replace => "replace",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    pub(super) fn parse(s: &str) -> Option<Operation> {
        Some(match s {
            "import" => Operation::Import,
            "create" => Operation::Create,
            "replace" => Operation::Replace,
            "update" => Operation::Update,
            "delete" => Operation::Delete,
            _ => return None,
        })
    }
}

/// A feature's state in the history: its properties and geometry (working CRS).
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub values: Vec<Value>,
    pub geometry: Geometry<f64>,
}

/// One change to one feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub layer: String,
    pub feature: FeatureId,
    pub operation: Operation,
    /// RFC 3339, UTC.
    pub at: String,
    pub user: String,
    /// `None` for a creation.
    pub before: Option<State>,
    /// `None` for a deletion.
    pub after: Option<State>,
}

/// A change as recorded, with its sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub seq: u64,
    pub change: Change,
}

/// Which changes a history read returns.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    pub layer: String,
    /// Only this feature's changes.
    pub feature: Option<FeatureId>,
    /// Only changes at or after this instant (RFC 3339 text, compared as text: UTC `Z` times).
    pub from: Option<String>,
    /// Only changes at or before this instant.
    pub to: Option<String>,
    /// At most this many, oldest first, after skipping `offset`.
    pub limit: usize,
    pub offset: usize,
}

/// What [`super::store::shown_changes`] calls with each change: its `seq`, time and geometry (WKB).
pub type EachShown<'a> = dyn FnMut(u64, &str, &[u8]) -> Result<(), StoreError> + 'a;

pub(super) fn parse_id(text: &str) -> Result<FeatureId, String> {
    match serde_json::from_str::<Json>(text) {
        Ok(Json::String(s)) => Ok(FeatureId::Str(s.into())),
        Ok(Json::Number(n)) if n.is_i64() => Ok(FeatureId::Int(n.as_i64().unwrap_or_default())),
        _ => Err(format!(
            "feature id {text:?} is neither text nor an integer"
        )),
    }
}

/// The values as a JSON object, by field name.
pub fn properties_text(fields: &[Field], values: &[Value]) -> String {
    let map: Map<String, Json> = fields
        .iter()
        .zip(values)
        .map(|(f, v)| (f.name.clone(), v.to_json()))
        .collect();
    Json::Object(map).to_string()
}

/// Values in field order from a JSON object written by [`properties_text`]. A field missing
/// from the object (added to the source since) is null.
pub fn parse_properties(fields: &[Field], text: &str) -> Result<Vec<Value>, String> {
    let Json::Object(map) =
        serde_json::from_str::<Json>(text).map_err(|e| format!("properties: {e}"))?
    else {
        return Err("properties are not a JSON object".into());
    };
    fields
        .iter()
        .map(|f| {
            let json = map.get(&f.name).unwrap_or(&Json::Null);
            value_of(f.ty, json)
                .ok_or_else(|| format!("property {} holds {json}, not a {}", f.name, f.ty.name()))
        })
        .collect()
}

fn value_of(ty: FieldType, json: &Json) -> Option<Value> {
    if json.is_null() {
        return Some(Value::Null);
    }
    Some(match ty {
        FieldType::Bool => Value::Bool(json.as_bool()?),
        FieldType::Int => Value::Int(json.as_i64()?),
        FieldType::Real => Value::Real(json.as_f64()?),
        FieldType::String => Value::String(json.as_str()?.into()),
        FieldType::Date => Value::Date(json.as_str()?.into()),
        FieldType::DateTime => Value::DateTime(json.as_str()?.into()),
    })
}

/// 64 random bits as hex, from the OS (the store's id in `ETag`s).
pub(super) fn random_id() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 8];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // No /dev/urandom: the clock is unique enough to tell two stores apart.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
