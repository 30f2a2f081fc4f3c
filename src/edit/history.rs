//! Past changes of a layer, imported into the store's change log when the store is created
//! (`[layer.edit] history` in the catalogue): the monitoring rounds made before territorio
//! kept the projects.
//!
//! The file is JSON Lines, sorted by time, one change per line:
//!
//! ```text
//! {"at":"2025-03-31T15:00:00Z","user":"monitoraggio","id":"P001","op":"create","set":{"status":"proposed","progress_pct":0}}
//! {"at":"2025-06-30T15:00:00Z","user":"monitoraggio","id":"P001","op":"update","set":{"status":"design","progress_pct":5}}
//! ```
//!
//! A feature's first line is its `create`: its state then is the source feature's properties
//! with `set` applied. Each later line applies its `set`. After its last line, a feature must
//! stand exactly as the source has it: the file and the source tell one story, or the import
//! is refused naming the feature and the field. The geometry is the source's throughout.
//! Source features without a line are imported as they are.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value as Json};

use super::rules::typed;
use super::store::{Change, Operation, State};
use crate::feature::{Feature, FeatureId, Field, Value};

/// Reads a history file against the source features of `layer`.
pub fn read(
    path: &Path,
    layer: &str,
    fields: &[Field],
    features: &[Feature],
) -> Result<Vec<Change>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text, layer, fields, features).map_err(|e| format!("{}: {e}", path.display()))
}

/// [`read`] on the file's text.
pub fn parse(
    text: &str,
    layer: &str,
    fields: &[Field],
    features: &[Feature],
) -> Result<Vec<Change>, String> {
    let by_id: HashMap<String, &Feature> = features.iter().map(|f| (f.id.to_string(), f)).collect();
    let mut state: HashMap<String, Vec<Value>> = HashMap::new();
    let mut changes = Vec::new();
    let mut last_at = String::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let at_line = |m: String| format!("line {line_no}: {m}");
        let record: Map<String, Json> = match serde_json::from_str(line) {
            Ok(Json::Object(m)) => m,
            Ok(_) => return Err(at_line("not a JSON object".into())),
            Err(e) => return Err(at_line(format!("malformed JSON: {e}"))),
        };
        let text_of = |key: &str| -> Result<String, String> {
            record
                .get(key)
                .and_then(Json::as_str)
                .map(str::to_string)
                .ok_or_else(|| at_line(format!("{key:?} must be text")))
        };
        let at = text_of("at")?;
        if crate::time::parse_timestamp(&at, crate::time::Zone::Required).is_none() {
            return Err(at_line(format!(
                "\"at\" {at:?} is not an RFC 3339 date-time"
            )));
        }
        if at < last_at {
            return Err(at_line(format!(
                "{at} comes before the line above ({last_at})"
            )));
        }
        last_at = at.clone();
        let user = text_of("user")?;
        let op = text_of("op")?;
        let id = match record.get("id") {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Number(n)) => n.to_string(),
            _ => return Err(at_line("\"id\" must be text or a number".into())),
        };
        let Some(feature) = by_id.get(&id) else {
            return Err(at_line(format!("the layer has no feature {id:?}")));
        };
        let set = match record.get("set") {
            Some(Json::Object(m)) => m.clone(),
            _ => return Err(at_line("\"set\" must be an object".into())),
        };
        let before = state.get(&id).cloned();
        let mut values = match (&before, op.as_str()) {
            (None, "create") => feature.values.to_vec(),
            (Some(v), "update") => v.clone(),
            (None, _) => return Err(at_line(format!("{id:?}: its first line must be a create"))),
            (Some(_), _) => {
                return Err(at_line(format!(
                    "{id:?}: op {op:?} after its create (only update may follow)"
                )))
            }
        };
        for (name, json) in &set {
            let Some(pos) = fields.iter().position(|f| &f.name == name) else {
                return Err(at_line(format!("no field {name:?}")));
            };
            values[pos] =
                typed(fields[pos].ty, json).map_err(|r| at_line(format!("{name}: {r}")))?;
        }
        state.insert(id.clone(), values.clone());
        let geometry = feature.geometry.clone();
        changes.push(Change {
            layer: layer.to_string(),
            feature: feature.id.clone(),
            operation: if before.is_none() {
                Operation::Create
            } else {
                Operation::Update
            },
            at,
            user,
            before: before.map(|values| State {
                values,
                geometry: geometry.clone(),
            }),
            after: Some(State { values, geometry }),
        });
    }
    // Every told story ends where the source stands.
    for f in features {
        let Some(values) = state.get(&f.id.to_string()) else {
            continue;
        };
        for (pos, field) in fields.iter().enumerate() {
            if !same(&values[pos], &f.values[pos]) {
                return Err(format!(
                    "feature {}: after its last line {} is {}, but the source has {}",
                    f.id, field.name, values[pos], f.values[pos]
                ));
            }
        }
    }
    Ok(changes)
}

/// Equal values; an integer and a real of the same value are the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(i), Value::Real(r)) | (Value::Real(r), Value::Int(i)) => *i as f64 == *r,
        (Value::Date(x) | Value::String(x), Value::Date(y) | Value::String(y)) => x == y,
        _ => a == b,
    }
}

/// The id of a feature as a history file writes it.
pub fn id_key(id: &FeatureId) -> String {
    id.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature::FieldType;
    use geo::point;

    fn fields() -> Vec<Field> {
        vec![
            Field {
                name: "status".into(),
                ty: FieldType::String,
            },
            Field {
                name: "progress_pct".into(),
                ty: FieldType::Int,
            },
        ]
    }

    fn source() -> Vec<Feature> {
        vec![Feature {
            id: FeatureId::Str("P001".into()),
            geometry: point!(x: 1.0, y: 2.0).into(),
            values: vec![Value::String("design".into()), Value::Int(20)].into(),
            invalid: None,
        }]
    }

    const STORY: &str = r#"{"at":"2025-03-31T15:00:00Z","user":"anna","id":"P001","op":"create","set":{"status":"proposed","progress_pct":0}}
{"at":"2025-06-30T15:00:00Z","user":"bruno","id":"P001","op":"update","set":{"progress_pct":5}}
{"at":"2025-09-30T15:00:00Z","user":"anna","id":"P001","op":"update","set":{"status":"design","progress_pct":20}}
"#;

    #[test]
    fn a_story_that_ends_at_the_source_is_imported_step_by_step() {
        let changes = parse(STORY, "projects", &fields(), &source()).expect("consistent");
        assert_eq!(changes.len(), 3);
        assert_eq!(changes[0].operation, Operation::Create);
        assert!(changes[0].before.is_none());
        let after = |i: usize| changes[i].after.as_ref().unwrap().values.clone();
        assert_eq!(
            after(0),
            vec![Value::String("proposed".into()), Value::Int(0)]
        );
        // The second line changes only the progress.
        assert_eq!(
            after(1),
            vec![Value::String("proposed".into()), Value::Int(5)]
        );
        assert_eq!(changes[2].before.as_ref().unwrap().values, after(1));
        assert_eq!(after(2), *source()[0].values);
        assert_eq!(changes[1].user, "bruno");
    }

    #[test]
    fn a_story_that_does_not_end_at_the_source_is_refused_by_feature_and_field() {
        let short: String = STORY.lines().take(2).collect::<Vec<_>>().join("\n");
        let e = parse(&short, "projects", &fields(), &source()).unwrap_err();
        assert!(e.contains("feature P001"), "{e}");
        assert!(e.contains("status"), "{e}");
    }

    #[test]
    fn bad_lines_are_named() {
        let cases = [
            ("{", "line 1: malformed JSON"),
            (
                r#"{"at":"2025-01-01","user":"a","id":"P001","op":"create","set":{}}"#,
                "RFC 3339",
            ),
            (
                r#"{"at":"2025-01-01T00:00:00Z","user":"a","id":"P009","op":"create","set":{}}"#,
                "no feature \"P009\"",
            ),
            (
                r#"{"at":"2025-01-01T00:00:00Z","user":"a","id":"P001","op":"update","set":{}}"#,
                "first line must be a create",
            ),
            (
                r#"{"at":"2025-01-01T00:00:00Z","user":"a","id":"P001","op":"create","set":{"x":1}}"#,
                "no field \"x\"",
            ),
            (
                r#"{"at":"2025-01-01T00:00:00Z","user":"a","id":"P001","op":"create","set":{"progress_pct":"a"}}"#,
                "progress_pct: must be an integer",
            ),
        ];
        for (text, expected) in cases {
            let e = parse(text, "projects", &fields(), &source()).unwrap_err();
            assert!(e.contains(expected), "{text}: {e}");
        }
        let lines: Vec<&str> = STORY.lines().collect();
        let unsorted = [lines[0], lines[2], lines[1]].join("\n");
        let e = parse(&unsorted, "projects", &fields(), &source()).unwrap_err();
        assert!(e.contains("comes before the line above"), "{e}");
    }
}
