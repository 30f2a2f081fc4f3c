//! A spatial join of two catalogue layers as a table, and its GeoJSON and CSV forms.
//!
//! [`join_document`] resolves a [`JoinRequest`] against a catalogue (layer ids, the fields to
//! copy, the joined fields' names), runs [`spatial_join`] and returns a [`JoinResult`]: one row
//! per target feature and match, in target order then join-layer order. [`join_geojson`]
//! and [`write_join_csv`] turn it into bytes; the command line and the HTTP layer both write
//! with them.
//!
//! Rows: a target that matches nothing keeps one row with empty joined fields, unless
//! [`JoinRequest::discard_nonmatching`] says to leave it out (QGIS's "discard records which could
//! not be joined"). Joined fields are named with a prefix, by default the join layer's id and
//! `_` (`municipalities_name`), so that the origin of every column is plain and the target's own
//! fields keep their names; a name that still clashes (or with an empty prefix, as in QGIS) gets
//! QGIS's suffix `_2`, `_3`...
//!
//! Cost: that of [`spatial_join`], plus one transformation per target feature for GeoJSON.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde_json::{json, Map, Value as Json};

use super::join::{spatial_join, JoinMode, JoinOptions, JoinPredicate};
use super::{field_index, AnalysisError};
use crate::crs::{CrsError, OutputCrs};
use crate::feature::{FieldType, Value};
use crate::geojson_io::{Collection, GeometryCache};
use crate::store::{Catalog, Layer};

/// What to join.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JoinRequest {
    /// The layer whose features get attributes (e.g. `projects`).
    pub target: String,
    /// The layer the attributes come from (e.g. `municipalities`).
    pub join: String,
    pub predicate: JoinPredicate,
    pub mode: JoinMode,
    /// The join layer's fields to copy, in this order (`None`: all, in the layer's order).
    pub fields: Option<Vec<String>>,
    /// Prefix of the joined fields' names (`None`: the join layer's id and `_`).
    pub prefix: Option<String>,
    /// Leave out the target features that match nothing.
    pub discard_nonmatching: bool,
}

/// Errors resolving a join request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JoinError {
    #[error("the catalogue has no layer {layer:?} (layers: {available})")]
    UnknownLayer { layer: String, available: String },
    /// An unknown field or a bad parameter.
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
}

/// A joined field: where it comes from and its name in the output.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinColumn {
    /// The output name (prefixed, and suffixed when it would clash).
    pub name: String,
    /// The field's index in the join layer's schema.
    pub field: usize,
    pub ty: FieldType,
}

/// One output row: a target feature and the join feature it takes attributes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinRow {
    /// Index in the target layer's features.
    pub target: u32,
    /// Index in the join layer's features; `None` when the target matched nothing.
    pub joined: Option<u32>,
}

/// A resolved and computed join, ready to write.
#[derive(Debug, Clone)]
pub struct JoinResult<'c> {
    pub target: &'c Layer,
    pub join: &'c Layer,
    pub predicate: JoinPredicate,
    pub mode: JoinMode,
    /// The joined fields, in output order (after the target's own fields).
    pub columns: Vec<JoinColumn>,
    pub rows: Vec<JoinRow>,
    /// How many target features matched at least one join feature.
    pub matched: usize,
    /// How many matched nothing (whether or not their rows were kept).
    pub unmatched: usize,
    /// Target features not joined because their geometry is invalid (indices).
    pub skipped_invalid: Vec<u32>,
}

/// Resolves `request` against `catalog` and joins.
///
/// ```
/// # use territorio::analysis::join::{JoinMode, JoinPredicate};
/// # use territorio::analysis::join_table::{join_document, write_join_csv, JoinRequest};
/// # fn demo(catalog: &territorio::store::Catalog) -> Result<(), Box<dyn std::error::Error>> {
/// let request = JoinRequest {
///     target: "projects".into(),
///     join: "municipalities".into(),
///     predicate: JoinPredicate::Intersects,
///     mode: JoinMode::LargestOverlap,
///     fields: Some(vec!["name".into()]),
///     ..Default::default()
/// };
/// let result = join_document(catalog, &request)?;
/// let mut csv = Vec::new();
/// write_join_csv(&mut csv, &result);
/// // fid,id,title,...,municipalities_name
/// # Ok(()) }
/// ```
pub fn join_document<'c>(
    catalog: &'c Catalog,
    request: &JoinRequest,
) -> Result<JoinResult<'c>, JoinError> {
    let layer = |id: &str| {
        catalog.layer(id).ok_or_else(|| JoinError::UnknownLayer {
            layer: id.to_string(),
            available: catalog
                .layers()
                .iter()
                .map(|l| l.id())
                .collect::<Vec<_>>()
                .join(", "),
        })
    };
    let (target, join) = (layer(&request.target)?, layer(&request.join)?);
    let fields: Vec<usize> = match &request.fields {
        None => (0..join.fields.len()).collect(),
        Some(names) => names
            .iter()
            .map(|n| field_index(join, n))
            .collect::<Result<_, _>>()?,
    };
    let prefix = request
        .prefix
        .clone()
        .unwrap_or_else(|| format!("{}_", join.id()));
    let mut taken: HashSet<String> = target.fields.iter().map(|f| f.name.clone()).collect();
    let columns = fields
        .into_iter()
        .map(|field| {
            let name = unique_name(&format!("{prefix}{}", join.fields[field].name), &taken);
            taken.insert(name.clone());
            JoinColumn {
                name,
                field,
                ty: join.fields[field].ty,
            }
        })
        .collect();

    let joined = spatial_join(
        target,
        join,
        &JoinOptions {
            predicate: request.predicate,
            mode: request.mode,
        },
    );
    let mut rows = Vec::with_capacity(joined.matches.len());
    for (i, found) in joined.matches.iter().enumerate() {
        let target = i as u32;
        if found.is_empty() {
            if !request.discard_nonmatching {
                rows.push(JoinRow {
                    target,
                    joined: None,
                });
            }
        } else {
            rows.extend(found.iter().map(|&j| JoinRow {
                target,
                joined: Some(j),
            }));
        }
    }
    let matched = joined.matched();
    Ok(JoinResult {
        target,
        join,
        predicate: request.predicate,
        mode: request.mode,
        columns,
        rows,
        matched,
        unmatched: joined.matches.len() - matched,
        skipped_invalid: joined.skipped_invalid,
    })
}

/// `name`, or `name_2`, `name_3`... whichever is not taken yet.
fn unique_name(name: &str, taken: &HashSet<String>) -> String {
    if !taken.contains(name) {
        return name.to_string();
    }
    (2..)
        .map(|k| format!("{name}_{k}"))
        .find(|n| !taken.contains(n))
        .unwrap_or_default()
}

impl JoinResult<'_> {
    /// The joined values of a row, one per column (null without a match).
    fn joined_values(&self, row: &JoinRow) -> impl Iterator<Item = (&str, &Value)> + '_ {
        let feature = row.joined.map(|j| &self.join.features[j as usize]);
        self.columns.iter().map(move |c| {
            (
                c.name.as_str(),
                feature.map_or(&Value::Null, |f| &f.values[c.field]),
            )
        })
    }
}

/// The join as a GeoJSON FeatureCollection: one Feature per row, with the target's id, its
/// geometry in `out_crs` (and its axis order; CRS84 from `cache`), its own properties and then
/// the joined ones. Foreign members say what was joined and how many matched. The command line
/// and the HTTP layer both write with it, through the shared [`Collection`] writer.
pub fn join_geojson(
    catalog: &Catalog,
    cache: &GeometryCache,
    result: &JoinResult<'_>,
    out_crs: &OutputCrs,
) -> Result<Vec<u8>, CrsError> {
    let mut members = vec![
        ("target", json!(result.target.id())),
        ("join", json!(result.join.id())),
        ("predicate", json!(result.predicate.name())),
        ("mode", json!(result.mode.name())),
        (
            "joined_fields",
            json!(result.columns.iter().map(|c| &c.name).collect::<Vec<_>>()),
        ),
        ("matched", json!(result.matched)),
        ("unmatched", json!(result.unmatched)),
    ];
    if !result.skipped_invalid.is_empty() {
        members.push((
            "skipped",
            Json::Array(
                result
                    .skipped_invalid
                    .iter()
                    .map(|&i| result.target.features[i as usize].id.to_json())
                    .collect(),
            ),
        ));
    }
    members.push(("numberReturned", json!(result.rows.len())));
    let mut fc = Collection::new(catalog, cache, &members);
    for row in &result.rows {
        let joined: Map<String, Json> = result
            .joined_values(row)
            .map(|(name, value)| (name.to_string(), value.to_json()))
            .collect();
        fc.catalog_feature(result.target, row.target, out_crs, &joined)?;
    }
    Ok(fc.into_bytes())
}

/// Writes the join as CSV (comma separated, RFC 4180 quoting, one line per row after the header,
/// lines ending in `\n` like the indicators' CSV): the target's feature id
/// (`fid`, or `fid_2`... if the target has such a field), its own fields, then the joined ones.
/// Nulls are empty cells; no geometry.
pub fn write_join_csv(out: &mut Vec<u8>, result: &JoinResult<'_>) {
    let target = result.target;
    let mut names: HashSet<String> = target.fields.iter().map(|f| f.name.clone()).collect();
    names.extend(result.columns.iter().map(|c| c.name.clone()));
    let id_column = unique_name("fid", &names);
    let mut line = String::new();
    let header = std::iter::once(id_column.as_str())
        .chain(target.fields.iter().map(|f| f.name.as_str()))
        .chain(result.columns.iter().map(|c| c.name.as_str()));
    for (i, name) in header.enumerate() {
        if i > 0 {
            line.push(',');
        }
        csv_cell(&mut line, name);
    }
    line.push('\n');
    out.extend_from_slice(line.as_bytes());
    for row in &result.rows {
        line.clear();
        let feature = &target.features[row.target as usize];
        csv_cell(&mut line, &feature.id.to_string());
        for value in feature
            .values
            .iter()
            .chain(result.joined_values(row).map(|(_, v)| v))
        {
            line.push(',');
            csv_value(&mut line, value);
        }
        line.push('\n');
        out.extend_from_slice(line.as_bytes());
    }
}

fn csv_value(line: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::Bool(b) => {
            let _ = write!(line, "{b}");
        }
        Value::Int(i) => {
            let _ = write!(line, "{i}");
        }
        Value::Real(r) if r.is_finite() => {
            let _ = write!(line, "{r}");
        }
        Value::Real(_) => {}
        Value::String(s) | Value::Date(s) | Value::DateTime(s) => csv_cell(line, s),
    }
}

/// A text cell, quoted when it holds a comma, a quote or a line break (quotes doubled).
fn csv_cell(line: &mut String, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&text.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::province;

    fn request(target: &str, join: &str) -> JoinRequest {
        JoinRequest {
            target: target.into(),
            join: join.into(),
            ..Default::default()
        }
    }

    #[test]
    fn csv_of_projects_with_their_municipality_by_hand() {
        // See `join`'s hand-checked test: P1 has 80,000 m² in B (Beta) against 60,000 in A,
        // P2 (a point) and P3 (600 m against 500) are in A (Alfa).
        let c = province();
        let r = join_document(
            &c,
            &JoinRequest {
                mode: JoinMode::LargestOverlap,
                fields: Some(vec!["name".into()]),
                ..request("projects", "municipalities")
            },
        )
        .unwrap();
        let mut out = Vec::new();
        write_join_csv(&mut out, &r);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "fid,title,axis,status,budget_eur,progress_pct,municipalities_name\n\
             P1,Uno,1,design,100,10,Beta\n\
             P2,Due,1,completed,300,30,Alfa\n\
             P3,Tre,2,design,600,50,Alfa\n"
        );
        assert_eq!((r.matched, r.unmatched), (3, 0));
    }

    #[test]
    fn all_matches_unmatched_rows_prefixes_and_clashes() {
        let c = province();
        // Projects in productive areas: only P2 lies in one (PA1, "Uno"); P1 and P3 keep a row
        // with empty joined fields. With an empty prefix the joined `status` clashes with the
        // projects' own and becomes `status_2`; `name` does not clash.
        let r = join_document(
            &c,
            &JoinRequest {
                fields: Some(vec!["status".into(), "name".into()]),
                prefix: Some(String::new()),
                ..request("projects", "productive_areas")
            },
        )
        .unwrap();
        let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["status_2", "name"]);
        let mut out = Vec::new();
        write_join_csv(&mut out, &r);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "fid,title,axis,status,budget_eur,progress_pct,status_2,name",
                "P1,Uno,1,design,100,10,,",
                "P2,Due,1,completed,300,30,existing,Uno",
                "P3,Tre,2,design,600,50,,",
            ]
        );
        assert_eq!((r.matched, r.unmatched), (1, 2));
        // Discarding the unmatched leaves P2 only; one-to-many gives P1 and P3 two rows each
        // in municipalities (A then B).
        let r = join_document(
            &c,
            &JoinRequest {
                discard_nonmatching: true,
                ..request("projects", "productive_areas")
            },
        )
        .unwrap();
        assert_eq!(
            r.rows,
            [JoinRow {
                target: 1,
                joined: Some(0)
            }]
        );
        let r = join_document(&c, &request("projects", "municipalities")).unwrap();
        let rows: Vec<(u32, Option<u32>)> = r.rows.iter().map(|r| (r.target, r.joined)).collect();
        assert_eq!(
            rows,
            [
                (0, Some(0)),
                (0, Some(1)),
                (1, Some(0)),
                (2, Some(0)),
                (2, Some(1))
            ]
        );
        // Default prefix: the join layer's id.
        let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["municipalities_name", "municipalities_population"]);
    }

    #[test]
    fn geojson_features_carry_both_sets_of_properties() {
        let c = province();
        let r = join_document(
            &c,
            &JoinRequest {
                fields: Some(vec!["name".into()]),
                ..request("projects", "municipalities")
            },
        )
        .unwrap();
        let cache = GeometryCache::unbounded(&c);
        let working = OutputCrs::new("EPSG:32632").unwrap();
        let out = join_geojson(&c, &cache, &r, &working).unwrap();
        let fc: Json = serde_json::from_slice(&out).unwrap();
        assert_eq!(fc["type"], "FeatureCollection");
        assert_eq!(
            (&fc["target"], &fc["join"], &fc["predicate"], &fc["mode"]),
            (
                &json!("projects"),
                &json!("municipalities"),
                &json!("intersects"),
                &json!("all")
            )
        );
        assert_eq!(fc["joined_fields"], json!(["municipalities_name"]));
        assert_eq!(
            (&fc["matched"], &fc["numberReturned"]),
            (&json!(3), &json!(5))
        );
        let features = fc["features"].as_array().unwrap();
        let got: Vec<(&str, &str)> = features
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap(),
                    f["properties"]["municipalities_name"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("P1", "Alfa"),
                ("P1", "Beta"),
                ("P2", "Alfa"),
                ("P3", "Alfa"),
                ("P3", "Beta")
            ]
        );
        // The target's own properties and geometry (working CRS here: the point as given,
        // written with 3 decimals, whole metres without a fraction).
        assert_eq!(features[2]["properties"]["title"], "Due");
        assert_eq!(
            features[2]["geometry"],
            json!({"type": "Point", "coordinates": [200, 250]})
        );
    }

    #[test]
    fn unknown_layers_and_fields_are_named() {
        let c = province();
        let e = join_document(&c, &request("progetti", "municipalities")).unwrap_err();
        assert!(
            matches!(&e, JoinError::UnknownLayer { layer, .. } if layer == "progetti"),
            "{e}"
        );
        assert!(e.to_string().contains("projects"), "{e}");
        let e = join_document(
            &c,
            &JoinRequest {
                fields: Some(vec!["nome".into()]),
                ..request("projects", "municipalities")
            },
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("\"nome\"") && e.to_string().contains("population"),
            "{e}"
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let mut line = String::new();
        csv_cell(&mut line, "Parco \"Adda\", nord");
        assert_eq!(line, "\"Parco \"\"Adda\"\", nord\"");
    }
}
