//! The properties of a write (OGC API - Features Part 4: the `properties` of a POSTed or PUT
//! feature, or of a merge patch), checked against a layer's schema and rules as the editor
//! checks them (`edit::rules::Schema::apply`), on a new feature and as a patch of an existing
//! one. Invariants: accepted values fit their fields' types and pass the rules again when sent
//! back whole, and change nothing when patched with nothing; a refusal names, for each
//! problem, a property that was sent or a field with a rule, and why.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value as Json};
use territorio::catalog::{Allowed, Derived, FieldRule};
use territorio::edit::rules::Schema;
use territorio::feature::{Field, FieldType, Value};

fn schema() -> Schema {
    let field = |name: &str, ty| Field {
        name: name.into(),
        ty,
    };
    Schema {
        fields: vec![
            field("id", FieldType::String),
            field("axis", FieldType::Int),
            field("axis_name", FieldType::String),
            field("status", FieldType::String),
            field("progress_pct", FieldType::Int),
            field("budget_eur", FieldType::Real),
            field("done", FieldType::Bool),
            field("start_date", FieldType::Date),
            field("end_date", FieldType::Date),
            field("checked_at", FieldType::DateTime),
        ],
        rules: vec![
            FieldRule {
                name: "axis".into(),
                required: true,
                allowed: (1..=8).map(Allowed::Int).collect(),
                ..FieldRule::default()
            },
            FieldRule {
                name: "axis_name".into(),
                derived: Some(Derived {
                    from: "axis".into(),
                    values: [("1".to_string(), "Uno".to_string())].into_iter().collect(),
                }),
                ..FieldRule::default()
            },
            FieldRule {
                name: "status".into(),
                allowed: vec![
                    Allowed::Text("design".into()),
                    Allowed::Text("funded".into()),
                ],
                ..FieldRule::default()
            },
            FieldRule {
                name: "progress_pct".into(),
                minimum: Some(0.0),
                maximum: Some(100.0),
                ..FieldRule::default()
            },
            FieldRule {
                name: "budget_eur".into(),
                minimum: Some(0.0),
                ..FieldRule::default()
            },
            FieldRule {
                name: "end_date".into(),
                not_before: Some("start_date".into()),
                ..FieldRule::default()
            },
        ],
        id_field: Some("id".into()),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(Json::Object(body)) = serde_json::from_slice::<Json>(data) else {
        return;
    };
    // A feature's properties member, or the body itself as the properties.
    let properties = match body.get("properties") {
        Some(Json::Object(p)) => p.clone(),
        _ => body,
    };
    let s = schema();
    let id = Value::String("P151".into());
    let base = s
        .apply(None, &serde_json::from_str(r#"{"axis": 1}"#).unwrap(), &id)
        .expect("a valid base");
    for start in [None, Some(base.as_slice())] {
        match s.apply(start, &properties, &id) {
            Ok(values) => {
                assert_eq!(values.len(), s.fields.len());
                let echoed: Map<String, Json> = s
                    .fields
                    .iter()
                    .zip(&values)
                    .map(|(f, v)| (f.name.clone(), v.to_json()))
                    .collect();
                assert_eq!(
                    s.apply(None, &echoed, &id),
                    Ok(values.clone()),
                    "{echoed:?}"
                );
                assert_eq!(s.apply(Some(&values), &Map::new(), &id), Ok(values));
            }
            Err(problems) => {
                assert!(!problems.is_empty());
                for p in &problems {
                    assert!(!p.rule.is_empty(), "{p:?}");
                    assert!(
                        properties.contains_key(&p.field)
                            || s.rules.iter().any(|r| r.name == p.field),
                        "{p:?} from {properties:?}"
                    );
                }
            }
        }
    }
});
