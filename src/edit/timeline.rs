//! Editable layers as they stood at past instants, replayed from the store's change log.
//!
//! The state of a layer at an instant T holds, for each feature, its last change (in the
//! order the changes were made) among those made at or before T: the feature as that change
//! left it, or nothing when the change deleted it. A feature with no change by T did not exist
//! yet. [`states_at`] gives the states at many instants from one reading of the log (a
//! monitoring series); [`catalog_at`] is the whole catalogue at T, every editable layer
//! replaced by its state then.
//!
//! Instants are seconds since 1970-01-01 UTC: they are read to the second ([`parse_instant`]),
//! and a change counts at T when it was made before the end of T's second. Change times are
//! read as RFC 3339 (territorio writes them in UTC with `Z`; a history file may carry an
//! offset or fractions of a second, which are read as such, not compared as text).
//!
//! The log is read through a read-only connection of its own, as the history is, so this runs
//! beside the writer. Cost, for c changes of the layer, f features and n instants: one read of
//! the times and ids (O(c), plus a sort of the instants), one streamed read of the changes to
//! decode only the chosen ones (each decoded once), and O(c·n) to choose them in the worst
//! case (a feature changed at every instant); the result is O(f·n) features.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::store::StoreAt;

use rusqlite::params;

use super::store::{open_read_only, parse_id, parse_properties, StoreError};
use crate::feature::{Feature, Field};
use crate::source::wkb;
use crate::store::{Catalog, Layer, LoadError};
use crate::time::{self, Zone};

/// Why an instant was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstantError {
    #[error(
        "{0:?} is not a date (YYYY-MM-DD) or an RFC 3339 date-time with its offset \
         (2026-03-01T10:00:00Z, 2026-03-01T11:00:00+01:00)"
    )]
    NotATime(String),
    #[error("{value} is in the future (it is now {now}): the history tells only the past")]
    Future { value: String, now: String },
}

/// Reads an instant given by a client, with `now` the current time (seconds since 1970-01-01
/// UTC), as seconds since 1970-01-01 UTC:
/// - a date `YYYY-MM-DD` is the end of that day in UTC (its last second), or `now` when the
///   day is today;
/// - an RFC 3339 date-time (`Z` or an offset required, `T`, `t` or a space between date and
///   time) is that instant, moved to UTC; fractions of a second are dropped.
///
/// ```
/// # use territorio::edit::timeline::{parse_instant, InstantError};
/// # use territorio::time::rfc3339;
/// let now = 1_764_676_800; // 2025-12-02T12:00:00Z
/// let at = |t| parse_instant(t, now).map(rfc3339);
/// assert_eq!(at("2025-03-01").unwrap(), "2025-03-01T23:59:59Z");
/// assert_eq!(at("2025-03-01T10:00:00+01:00").unwrap(), "2025-03-01T09:00:00Z");
/// // Today is until now; tomorrow is refused.
/// assert_eq!(at("2025-12-02").unwrap(), "2025-12-02T12:00:00Z");
/// assert!(matches!(at("2025-12-03"), Err(InstantError::Future { .. })));
/// assert!(matches!(at("2025-02-30"), Err(InstantError::NotATime(_))));
/// ```
///
/// Errors: the text is neither ([`InstantError::NotATime`]: impossible dates such as
/// 2026-02-30 too), or it names an instant after `now` ([`InstantError::Future`]).
pub fn parse_instant(text: &str, now: i64) -> Result<i64, InstantError> {
    let not_a_time = || InstantError::NotATime(text.to_string());
    if text.trim() != text {
        return Err(not_a_time());
    }
    let future = || InstantError::Future {
        value: text.to_string(),
        now: time::rfc3339(now),
    };
    if let Some(day) = time::parse_date(text) {
        let start = day * 86_400;
        if start > now {
            return Err(future());
        }
        return Ok((start + 86_399).min(now));
    }
    let nanos = time::parse_timestamp(text, Zone::Required).ok_or_else(not_a_time)?;
    let seconds = i64::try_from(nanos.div_euclid(1_000_000_000)).map_err(|_| not_a_time())?;
    if seconds > now {
        return Err(future());
    }
    Ok(seconds)
}

/// When one change of the log was made, and to which feature.
struct Entry {
    seq: i64,
    /// Seconds since 1970-01-01 UTC (fractions dropped).
    at: i64,
    feature: String,
}

/// The times and features of every change of `layer`, in the order they were made.
fn entries(at: &StoreAt, layer: &str) -> Result<Vec<Entry>, StoreError> {
    match at {
        StoreAt::Folder(dir) => entries_in_folder(dir, layer),
        StoreAt::Postgres(dsn) => super::pg::entries(dsn, layer)?
            .into_iter()
            .map(|(seq, at, feature)| {
                let nanos = time::parse_timestamp(&at, Zone::MayOmit).ok_or_else(|| {
                    StoreError::Postgres {
                        place: "PostgreSQL".into(),
                        transient: false,
                        reason: format!("change {seq}: its time {at:?} is not RFC 3339"),
                    }
                })?;
                Ok(Entry {
                    seq,
                    at: nanos.div_euclid(1_000_000_000) as i64,
                    feature,
                })
            })
            .collect(),
    }
}

fn entries_in_folder(dir: &Path, layer: &str) -> Result<Vec<Entry>, StoreError> {
    let (conn, file) = open_read_only(dir)?;
    let sql = |source| StoreError::Sqlite {
        file: file.clone(),
        source,
    };
    let mut stmt = conn
        .prepare("SELECT seq, at, feature FROM changes WHERE layer = ?1 ORDER BY seq")
        .map_err(sql)?;
    let rows = stmt
        .query_map(params![layer], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(sql)?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, at, feature) = row.map_err(sql)?;
        let nanos =
            time::parse_timestamp(&at, Zone::MayOmit).ok_or_else(|| StoreError::Corrupt {
                file: file.clone(),
                reason: format!("change {seq}: its time {at:?} is not an RFC 3339 date-time"),
            })?;
        out.push(Entry {
            seq,
            at: nanos.div_euclid(1_000_000_000) as i64,
            feature,
        });
    }
    Ok(out)
}

/// When the first change of `layer` was made (seconds since 1970-01-01 UTC); `None` when it
/// has none.
pub fn first_change(store: &StoreAt, layer: &str) -> Result<Option<i64>, StoreError> {
    Ok(entries(store, layer)?.iter().map(|e| e.at).min())
}

/// The features of `layer` (whose fields are `fields`) as they stood at each of `instants`
/// (seconds since 1970-01-01 UTC, in any order), one list per instant in the order given, each
/// sorted by id.
///
/// Errors: the store cannot be read, or a change in it cannot be decoded (naming it).
pub fn states_at(
    store: &StoreAt,
    layer: &str,
    fields: &[Field],
    instants: &[i64],
) -> Result<Vec<Vec<Feature>>, StoreError> {
    let log = entries(store, layer)?;
    // Each feature's changes, in the order they were made.
    let mut by_feature: HashMap<&str, Vec<&Entry>> = HashMap::new();
    for e in &log {
        by_feature.entry(&e.feature).or_default().push(e);
    }
    // For each instant, the sequence number of each feature's last change by then.
    let chosen: Vec<Vec<i64>> = instants
        .iter()
        .map(|&t| {
            by_feature
                .values()
                .filter_map(|changes| changes.iter().rev().find(|e| e.at <= t).map(|e| e.seq))
                .collect()
        })
        .collect();
    let wanted: HashSet<i64> = chosen.iter().flatten().copied().collect();
    let decoded = decode(store, layer, fields, &wanted)?;
    Ok(chosen
        .into_iter()
        .map(|seqs| {
            let mut features: Vec<Feature> = seqs
                .iter()
                .filter_map(|seq| decoded.get(seq).and_then(Clone::clone))
                .collect();
            features.sort_by(|a, b| a.id.cmp(&b.id));
            features
        })
        .collect())
}

/// The features of `layer` as they stood at `at`, sorted by id ([`states_at`] at one instant).
pub fn features_at(
    store: &StoreAt,
    layer: &str,
    fields: &[Field],
    at: i64,
) -> Result<Vec<Feature>, StoreError> {
    Ok(states_at(store, layer, fields, &[at])?
        .pop()
        .unwrap_or_default())
}

/// The feature each change of `wanted` left (`None` for a deletion), read in one pass over the
/// layer's log.
fn decode(
    store: &StoreAt,
    layer: &str,
    fields: &[Field],
    wanted: &HashSet<i64>,
) -> Result<HashMap<i64, Option<Feature>>, StoreError> {
    let mut out = HashMap::with_capacity(wanted.len());
    if wanted.is_empty() {
        return Ok(out);
    }
    let dir = match store {
        StoreAt::Folder(dir) => dir,
        StoreAt::Postgres(dsn) => {
            let wanted: Vec<i64> = wanted.iter().copied().collect();
            return super::pg::states_after(dsn, layer, fields, &wanted);
        }
    };
    let (conn, file) = open_read_only(dir)?;
    let sql = |source| StoreError::Sqlite {
        file: file.clone(),
        source,
    };
    let mut stmt = conn
        .prepare(
            "SELECT seq, feature, after_properties, after_geometry FROM changes
             WHERE layer = ?1 ORDER BY seq",
        )
        .map_err(sql)?;
    let mut rows = stmt.query(params![layer]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let seq: i64 = row.get(0).map_err(sql)?;
        if !wanted.contains(&seq) {
            continue;
        }
        let corrupt = |reason: String| StoreError::Corrupt {
            file: file.clone(),
            reason: format!("change {seq}: {reason}"),
        };
        let feature: String = row.get(1).map_err(sql)?;
        let properties: Option<String> = row.get(2).map_err(sql)?;
        let geometry: Option<Vec<u8>> = row.get(3).map_err(sql)?;
        let after = match (properties, geometry) {
            (Some(p), Some(g)) => Some(Feature {
                id: parse_id(&feature).map_err(corrupt)?,
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

/// Why the catalogue at an instant could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A past state that cannot be built into a layer (boxed: a load error is large).
    #[error(transparent)]
    Load(Box<LoadError>),
}

impl From<LoadError> for TimelineError {
    fn from(e: LoadError) -> Self {
        TimelineError::Load(Box::new(e))
    }
}

/// `catalog` (the current one) as it stood at `at`: every editable layer replaced by its state
/// then, built like a loaded layer (validated, indexed) but without revisions (the past is not
/// edited). Returns the catalogue and the positions of the layers replaced.
///
/// Cost: [`states_at`] and an R-tree bulk load per editable layer; the other layers are
/// shared, not copied.
pub fn catalog_at(
    catalog: &Catalog,
    store: &StoreAt,
    at: i64,
) -> Result<(Catalog, Vec<usize>), TimelineError> {
    let mut past: Option<Catalog> = None;
    let mut replaced = Vec::new();
    for (pos, layer) in catalog.layers().iter().enumerate() {
        if !layer.config.is_editable() {
            continue;
        }
        let features = features_at(store, layer.id(), &layer.fields, at)?;
        let then = Layer::new(
            layer.config.clone(),
            layer.source_crs.clone(),
            layer.driver.clone(),
            layer.fields.clone(),
            features,
        )?;
        past = Some(
            past.as_ref()
                .unwrap_or(catalog)
                .with_layer(then)
                .expect("the layer is in the catalogue"),
        );
        replaced.push(pos);
    }
    Ok((past.unwrap_or_else(|| catalog.clone()), replaced))
}

#[cfg(test)]
mod tests {
    use geo::{point, Geometry};

    use super::*;
    use crate::catalog::{CatalogConfig, EditConfig, LayerConfig, System};
    use crate::edit::store::{Change, Operation, State, Store};
    use crate::feature::{FeatureId, FieldType, Value};

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
        ]
    }

    fn state(name: &str, n: i64, x: f64) -> State {
        State {
            values: vec![Value::String(name.into()), Value::Int(n)],
            geometry: point!(x: x, y: 5_000_000.0).into(),
        }
    }

    fn change(
        id: &str,
        operation: Operation,
        at: &str,
        before: Option<State>,
        after: Option<State>,
    ) -> Change {
        Change {
            layer: "p".into(),
            feature: FeatureId::Str(id.into()),
            operation,
            at: at.into(),
            user: "anna".into(),
            before,
            after,
        }
    }

    fn seconds(t: &str) -> i64 {
        (time::parse_timestamp(t, Zone::Required).expect("a time") / 1_000_000_000) as i64
    }

    /// A hand-made history of layer `p`, in the order the changes were made:
    ///
    /// | # | at (as stored)            | UTC                  | feature | what                  |
    /// |---|---------------------------|----------------------|---------|-----------------------|
    /// | 1 | 2025-01-10T10:00:00Z      | 2025-01-10 10:00:00  | A       | create, n 1, x 1      |
    /// | 2 | 2025-01-20T00:00:00+01:00 | 2025-01-19 23:00:00  | B       | create, n 10          |
    /// | 3 | 2025-02-05T12:00:00.5Z    | 2025-02-05 12:00:00  | A       | update, n 2, moved x 2|
    /// | 4 | 2025-03-01T00:00:00Z      | 2025-03-01 00:00:00  | C       | import, n 100         |
    /// | 5 | 2025-03-10T00:00:00Z      | 2025-03-10 00:00:00  | B       | delete                |
    /// | 6 | 2025-03-15T08:00:00Z      | 2025-03-15 08:00:00  | A       | update, n 3           |
    /// | 7 | 2025-03-14T00:00:00Z      | 2025-03-14 00:00:00  | A       | update, n 4 (a clock  |
    /// |   |                           |                      |         | set back: made after 6)|
    /// | 8 | 2025-03-20T00:00:00Z      | 2025-03-20 00:00:00  | D       | create, n 7           |
    fn store(dir: &Path) {
        let mut store = Store::open(dir).expect("opens");
        let history = vec![
            change(
                "A",
                Operation::Create,
                "2025-01-10T10:00:00Z",
                None,
                Some(state("a", 1, 1.0)),
            ),
            change(
                "B",
                Operation::Create,
                "2025-01-20T00:00:00+01:00",
                None,
                Some(state("b", 10, 0.0)),
            ),
            change(
                "A",
                Operation::Update,
                "2025-02-05T12:00:00.5Z",
                Some(state("a", 1, 1.0)),
                Some(state("a", 2, 2.0)),
            ),
        ];
        let source = vec![
            Feature {
                id: FeatureId::Str("A".into()),
                geometry: state("a", 2, 2.0).geometry,
                values: state("a", 2, 2.0).values.into(),
                invalid: None,
            },
            Feature {
                id: FeatureId::Str("B".into()),
                geometry: state("b", 10, 0.0).geometry,
                values: state("b", 10, 0.0).values.into(),
                invalid: None,
            },
            Feature {
                id: FeatureId::Str("C".into()),
                geometry: state("c", 100, 0.0).geometry,
                values: state("c", 100, 0.0).values.into(),
                invalid: None,
            },
        ];
        store
            .import(
                "p",
                "p.geojson",
                &fields(),
                &source,
                &history,
                "2025-03-01T00:00:00Z",
            )
            .expect("imports");
        store
            .commit(
                &fields(),
                &[
                    change(
                        "B",
                        Operation::Delete,
                        "2025-03-10T00:00:00Z",
                        Some(state("b", 10, 0.0)),
                        None,
                    ),
                    change(
                        "A",
                        Operation::Update,
                        "2025-03-15T08:00:00Z",
                        Some(state("a", 2, 2.0)),
                        Some(state("a", 3, 2.0)),
                    ),
                    change(
                        "A",
                        Operation::Update,
                        "2025-03-14T00:00:00Z",
                        Some(state("a", 3, 2.0)),
                        Some(state("a", 4, 2.0)),
                    ),
                    change(
                        "D",
                        Operation::Create,
                        "2025-03-20T00:00:00Z",
                        None,
                        Some(state("d", 7, 5.0)),
                    ),
                ],
            )
            .expect("commits");
    }

    /// A state as (id, n) pairs.
    fn short(features: &[Feature]) -> Vec<(String, i64)> {
        features
            .iter()
            .map(|f| {
                let n = match f.values[1] {
                    Value::Int(n) => n,
                    ref other => panic!("n is {other:?}"),
                };
                (f.id.to_string(), n)
            })
            .collect()
    }

    /// A state whole: ids, values, geometries.
    fn full(features: &[Feature]) -> Vec<(FeatureId, Vec<Value>, Geometry<f64>)> {
        features
            .iter()
            .map(|f| (f.id.clone(), f.values.to_vec(), f.geometry.clone()))
            .collect()
    }

    fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
        list.iter().map(|(id, n)| (id.to_string(), *n)).collect()
    }

    #[test]
    fn each_feature_stands_as_its_last_change_by_then_left_it() {
        let dir = tempfile::tempdir().unwrap();
        store(dir.path());
        // (instant, expected state), worked out by hand from the table above.
        let cases: Vec<(&str, Vec<(&str, i64)>)> = vec![
            // Before the first change: nothing yet.
            ("2025-01-10T09:59:59Z", vec![]),
            ("2025-01-10T10:00:00Z", vec![("A", 1)]),
            // B's creation is at 23:00 UTC (midnight at +01:00).
            ("2025-01-19T22:59:59Z", vec![("A", 1)]),
            ("2025-01-19T23:00:00Z", vec![("A", 1), ("B", 10)]),
            // Change 3 at 12:00:00.5 counts from its second on.
            ("2025-02-05T11:59:59Z", vec![("A", 1), ("B", 10)]),
            ("2025-02-05T12:00:00Z", vec![("A", 2), ("B", 10)]),
            (
                "2025-03-01T00:00:00Z",
                vec![("A", 2), ("B", 10), ("C", 100)],
            ),
            // B deleted at exactly this instant: gone.
            ("2025-03-10T00:00:00Z", vec![("A", 2), ("C", 100)]),
            // Change 7 (n 4) is in; change 6 (n 3) is not yet.
            ("2025-03-14T12:00:00Z", vec![("A", 4), ("C", 100)]),
            // Both in: the one made last (7) wins, whatever its time says.
            ("2025-03-15T08:00:00Z", vec![("A", 4), ("C", 100)]),
            ("2025-03-31T23:59:59Z", vec![("A", 4), ("C", 100), ("D", 7)]),
        ];
        let instants: Vec<i64> = cases.iter().map(|(t, _)| seconds(t)).collect();
        let states = states_at(
            &crate::edit::store::StoreAt::Folder(dir.path().to_path_buf()),
            "p",
            &fields(),
            &instants,
        )
        .expect("reads");
        assert_eq!(states.len(), cases.len());
        for ((t, expected), got) in cases.iter().zip(&states) {
            assert_eq!(short(got), pairs(expected), "at {t}");
            // One instant at a time gives the same.
            let alone = features_at(
                &crate::edit::store::StoreAt::Folder(dir.path().to_path_buf()),
                "p",
                &fields(),
                seconds(t),
            )
            .expect("reads");
            assert_eq!(full(&alone), full(got), "at {t}");
        }
        // The instants in another order: the states follow them.
        let reversed: Vec<i64> = instants.iter().rev().copied().collect();
        let mut back = states_at(
            &crate::edit::store::StoreAt::Folder(dir.path().to_path_buf()),
            "p",
            &fields(),
            &reversed,
        )
        .expect("reads");
        back.reverse();
        let all = |s: &[Vec<Feature>]| s.iter().map(|f| full(f)).collect::<Vec<_>>();
        assert_eq!(all(&back), all(&states));
        // A's geometry moved with change 3.
        let a_at = |t: &str| {
            features_at(
                &crate::edit::store::StoreAt::Folder(dir.path().to_path_buf()),
                "p",
                &fields(),
                seconds(t),
            )
            .unwrap()[0]
                .geometry
                .clone()
        };
        assert_eq!(
            a_at("2025-01-31T00:00:00Z"),
            Geometry::from(point!(x: 1.0, y: 5_000_000.0))
        );
        assert_eq!(
            a_at("2025-02-28T00:00:00Z"),
            Geometry::from(point!(x: 2.0, y: 5_000_000.0))
        );
        // Another layer has no history: empty at any instant.
        assert!(features_at(
            &crate::edit::store::StoreAt::Folder(dir.path().to_path_buf()),
            "q",
            &fields(),
            seconds("2026-01-01T00:00:00Z")
        )
        .unwrap()
        .is_empty());
        assert_eq!(
            first_change(
                &crate::edit::store::StoreAt::Folder(dir.path().to_path_buf()),
                "p"
            )
            .unwrap(),
            Some(seconds("2025-01-10T10:00:00Z"))
        );
        assert_eq!(
            first_change(
                &crate::edit::store::StoreAt::Folder(dir.path().to_path_buf()),
                "q"
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn the_catalogue_at_an_instant_replaces_the_editable_layer_only() {
        let dir = tempfile::tempdir().unwrap();
        store(dir.path());
        let config = |id: &str, edit: bool| LayerConfig {
            id: id.into(),
            title: id.into(),
            description: "d".into(),
            system: System::Projects,
            source: format!("{id}.geojson").into(),
            table: None,
            geometry_column: None,
            database: None,
            layer: None,
            id_field: None,
            crs: None,
            style: None,
            edit: edit.then_some(EditConfig {
                history: None,
                id_prefix: None,
            }),
            field_rules: Vec::new(),
        };
        let layer = |id: &str, edit: bool, features: Vec<Feature>| {
            Layer::new(
                config(id, edit),
                "EPSG:32632".into(),
                "GeoJSON".into(),
                fields(),
                features,
            )
            .unwrap()
        };
        let now = features_at(
            &crate::edit::store::StoreAt::Folder(dir.path().to_path_buf()),
            "p",
            &fields(),
            seconds("2026-01-01T00:00:00Z"),
        )
        .unwrap();
        let fixed = features_at(
            &crate::edit::store::StoreAt::Folder(dir.path().to_path_buf()),
            "p",
            &fields(),
            seconds("2025-01-15T00:00:00Z"),
        )
        .unwrap();
        let catalog = Catalog::from_layers(
            CatalogConfig {
                path: "memory.toml".into(),
                working_crs: "EPSG:32632".into(),
                styles_dir: "styles".into(),
                layers: vec![config("fixed", false), config("p", true)],
                roles: Default::default(),
            },
            "EPSG:32632".into(),
            vec![layer("fixed", false, fixed), layer("p", true, now)],
        );
        let (past, replaced) = catalog_at(
            &catalog,
            &crate::edit::store::StoreAt::Folder(dir.path().to_path_buf()),
            seconds("2025-02-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(replaced, vec![1]);
        let p = past.layer("p").unwrap();
        assert_eq!(short(&p.features), pairs(&[("A", 1), ("B", 10)]));
        assert!(p.revisions.is_none());
        // Indexed: B is found by its id and by its place.
        assert!(p.get(&FeatureId::Str("B".into())).is_some());
        assert_eq!(p.extent().map(|e| e.min().x), Some(0.0));
        // The layer that takes no edits is the same layer, shared.
        assert!(std::sync::Arc::ptr_eq(
            &past.layers()[0],
            &catalog.layers()[0]
        ));
    }

    #[test]
    fn instants_are_dates_or_rfc3339_date_times_in_the_past() {
        let now = seconds("2025-12-02T12:00:00Z");
        let at = |t: &str| parse_instant(t, now).map(time::rfc3339);
        assert_eq!(at("2025-03-01").unwrap(), "2025-03-01T23:59:59Z");
        assert_eq!(at("2024-02-29").unwrap(), "2024-02-29T23:59:59Z");
        assert_eq!(at("2025-03-01T10:00:00Z").unwrap(), "2025-03-01T10:00:00Z");
        assert_eq!(at("2025-03-01t10:00:00z").unwrap(), "2025-03-01T10:00:00Z");
        assert_eq!(at("2025-03-01 10:00:00Z").unwrap(), "2025-03-01T10:00:00Z");
        assert_eq!(
            at("2025-03-01T10:00:00.999Z").unwrap(),
            "2025-03-01T10:00:00Z"
        );
        // Offsets move the instant to UTC, across a day.
        assert_eq!(
            at("2025-03-01T01:30:00+02:00").unwrap(),
            "2025-02-28T23:30:00Z"
        );
        assert_eq!(
            at("2025-03-01T23:30:00-01:00").unwrap(),
            "2025-03-02T00:30:00Z"
        );
        // Today: until now; now itself; a second later is the future.
        assert_eq!(at("2025-12-02").unwrap(), "2025-12-02T12:00:00Z");
        assert_eq!(at("2025-12-02T12:00:00Z").unwrap(), "2025-12-02T12:00:00Z");
        for future in [
            "2025-12-03",
            "2025-12-02T12:00:01Z",
            "2025-12-02T13:00:01+01:00",
        ] {
            assert_eq!(
                at(future),
                Err(InstantError::Future {
                    value: future.into(),
                    now: "2025-12-02T12:00:00Z".into()
                }),
                "{future}"
            );
        }
        // The same instant as now, written at another offset.
        assert_eq!(
            at("2025-12-02T12:30:00+00:30").unwrap(),
            "2025-12-02T12:00:00Z"
        );
        for bad in [
            "",
            "2025-02-29",
            "2025-13-01",
            "2025-3-1",
            "01/03/2025",
            "2025-03-01T10:00:00",
            "2025-03-01T10:00Z",
            "2025-03-01T25:00:00Z",
            " 2025-03-01",
            "2025-03-01 ",
            "2025-03-01T10:00:00 01:00",
            "yesterday",
        ] {
            assert_eq!(at(bad), Err(InstantError::NotATime(bad.into())), "{bad:?}");
        }
    }
}
