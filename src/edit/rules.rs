//! Properties sent by a client, checked against a layer's schema and the catalogue's
//! `[[layer.field]]` rules, and turned into typed values.
//!
//! A write is refused with every problem found (not only the first), each naming the field and
//! the rule, so that a client can correct a whole form at once. The checks, per field:
//! - the property exists in the schema (unknown names are refused, listing the fields);
//! - the JSON type fits the field's type (an integer for an integer field, a real date for a
//!   date field...);
//! - `required`: not null;
//! - `values`: one of the allowed values;
//! - `minimum` / `maximum`;
//! - `not_before`: a date not before another date field of the same feature;
//! - read-only fields (the id, derived values) may be sent only as null or as the value the
//!   service gives them (QGIS sends every attribute of a new feature).
//!
//! Derived fields are then computed from their source field.
//!
//! Cost: O(fields + rules) per feature.

use std::fmt;

use serde_json::{Map, Value as Json};

use crate::catalog::{Allowed, FieldRule};
use crate::feature::{Field, FieldType, Value};

/// One thing wrong with the properties of a write: the field (or `properties`) and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub rule: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

fn problem(field: &str, rule: impl Into<String>) -> Problem {
    Problem {
        field: field.to_string(),
        rule: rule.into(),
    }
}

/// The schema and rules of an editable layer.
#[derive(Debug, Clone)]
pub struct Schema {
    pub fields: Vec<Field>,
    pub rules: Vec<FieldRule>,
    /// The field holding the feature id, when ids are a property.
    pub id_field: Option<String>,
}

impl Schema {
    /// Checks that every rule names a field of the schema, with a rule that fits its type.
    pub fn check(&self) -> Result<(), String> {
        for rule in &self.rules {
            let Some(field) = self.field(&rule.name) else {
                return Err(format!(
                    "[[layer.field]] {:?}: the layer has no such field (fields: {})",
                    rule.name,
                    self.names()
                ));
            };
            let numeric = matches!(field.ty, FieldType::Int | FieldType::Real);
            if (rule.minimum.is_some() || rule.maximum.is_some()) && !numeric {
                return Err(format!(
                    "[[layer.field]] {:?}: minimum and maximum need a number field, not a {} one",
                    rule.name,
                    field.ty.name()
                ));
            }
            if let Some(other) = &rule.not_before {
                let dated = |t: FieldType| matches!(t, FieldType::Date | FieldType::DateTime);
                match self.field(other) {
                    Some(o) if dated(o.ty) && dated(field.ty) => {}
                    _ => {
                        return Err(format!(
                            "[[layer.field]] {:?}: not_before {other:?} must name a date field, \
                             and the field must be a date",
                            rule.name
                        ))
                    }
                }
            }
            if let Some(d) = &rule.derived {
                if self.field(&d.from).is_none() {
                    return Err(format!(
                        "[[layer.field]] {:?}: derived from {:?}, which the layer does not have",
                        rule.name, d.from
                    ));
                }
            }
        }
        Ok(())
    }

    fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    fn names(&self) -> String {
        self.fields
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn rule(&self, name: &str) -> Option<&FieldRule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// Whether clients may not set this field (the id field, a derived field).
    pub fn is_read_only(&self, name: &str) -> bool {
        self.id_field.as_deref() == Some(name)
            || self.rule(name).is_some_and(|r| r.derived.is_some())
    }

    /// The values of a feature after a write: `base` (the current values for a PATCH; `None`
    /// for a new or replaced feature, whose unsent fields are null) with `properties` applied,
    /// derived fields computed, `id` in the id field. Every problem is reported.
    pub fn apply(
        &self,
        base: Option<&[Value]>,
        properties: &Map<String, Json>,
        id: &Value,
    ) -> Result<Vec<Value>, Vec<Problem>> {
        let mut values: Vec<Value> = match base {
            Some(b) => b.to_vec(),
            None => vec![Value::Null; self.fields.len()],
        };
        let mut problems = Vec::new();
        let derived_now = |values: &[Value]| self.derived_values(values);
        for (name, json) in properties {
            let Some(pos) = self.fields.iter().position(|f| &f.name == name) else {
                problems.push(problem(
                    name,
                    format!("no such field (fields: {})", self.names()),
                ));
                continue;
            };
            let field = &self.fields[pos];
            if self.is_read_only(name) {
                // Checked below, once the derived values are known.
                continue;
            }
            match typed(field.ty, json) {
                Ok(v) => values[pos] = v,
                Err(rule) => problems.push(problem(name, rule)),
            }
        }
        if let Some(pos) = self.id_position() {
            values[pos] = id.clone();
        }
        for (pos, value) in derived_now(&values) {
            values[pos] = value;
        }
        // Read-only fields: null, or the value the service gives them.
        for (name, json) in properties {
            if !self.is_read_only(name) {
                continue;
            }
            let Some(pos) = self.fields.iter().position(|f| &f.name == name) else {
                continue;
            };
            if !json.is_null() && values[pos].to_json() != *json {
                let why = if self.id_field.as_deref() == Some(name.as_str()) {
                    "read-only: the service assigns the feature id".to_string()
                } else {
                    let from = self
                        .rule(name)
                        .and_then(|r| r.derived.as_ref())
                        .map(|d| d.from.as_str())
                        .unwrap_or_default();
                    format!("read-only: derived from {from} by the service")
                };
                problems.push(problem(name, why));
            }
        }
        for (pos, field) in self.fields.iter().enumerate() {
            if let Some(rule) = self.rule(&field.name) {
                check_rule(rule, &values[pos], &values, &self.fields, &mut problems);
            }
        }
        if problems.is_empty() {
            Ok(values)
        } else {
            Err(problems)
        }
    }

    fn id_position(&self) -> Option<usize> {
        let id = self.id_field.as_deref()?;
        self.fields.iter().position(|f| f.name == id)
    }

    /// The derived fields' values for `values`: (position, value).
    fn derived_values(&self, values: &[Value]) -> Vec<(usize, Value)> {
        let mut out = Vec::new();
        for rule in &self.rules {
            let Some(d) = &rule.derived else { continue };
            let (Some(pos), Some(from)) = (
                self.fields.iter().position(|f| f.name == rule.name),
                self.fields.iter().position(|f| f.name == d.from),
            ) else {
                continue;
            };
            let key = &values[from];
            let found = match key {
                Value::Null => None,
                k => d.values.get(&k.to_string()),
            };
            let value = match (found, self.fields[pos].ty) {
                (None, _) => Value::Null,
                (Some(text), FieldType::Int) => text.parse().map(Value::Int).unwrap_or(Value::Null),
                (Some(text), FieldType::Real) => {
                    text.parse().map(Value::Real).unwrap_or(Value::Null)
                }
                (Some(text), _) => Value::String(text.as_str().into()),
            };
            out.push((pos, value));
        }
        out
    }
}

/// A JSON value as a value of a field of type `ty`, or the rule it breaks.
pub(crate) fn typed(ty: FieldType, json: &Json) -> Result<Value, String> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    let wrong = |want: &str| format!("must be {want}, not {}", json_kind(json));
    match ty {
        FieldType::Bool => json
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| wrong("true or false")),
        FieldType::Int => match json {
            Json::Number(n) => n
                .as_i64()
                .or_else(|| {
                    // 12.0 is the integer 12 (some clients write every number as a real).
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                })
                .map(Value::Int)
                .ok_or_else(|| format!("must be an integer, not {n}")),
            _ => Err(wrong("an integer")),
        },
        FieldType::Real => match json.as_f64() {
            Some(f) if f.is_finite() => Ok(Value::Real(f)),
            _ => Err(wrong("a number")),
        },
        // NUL is no character of a text anyone means to keep, and PostgreSQL's jsonb (the
        // PostgreSQL store's properties) cannot hold it: refused whatever the store, so that
        // both stores take the same edits (and one client's NUL cannot fail a PostgreSQL
        // transaction holding other clients' edits).
        FieldType::String => match json.as_str() {
            Some(s) if s.contains('\0') => {
                Err("must be text without the NUL character (U+0000)".into())
            }
            Some(s) => Ok(Value::String(s.into())),
            None => Err(wrong("text")),
        },
        FieldType::Date => match json.as_str() {
            Some(s) if crate::time::parse_date(s).is_some() => Ok(Value::Date(s.into())),
            Some(s) => Err(format!("must be a date as YYYY-MM-DD, not {s:?}")),
            None => Err(wrong("a date as YYYY-MM-DD text")),
        },
        FieldType::DateTime => match json.as_str() {
            Some(s) if crate::time::parse_timestamp(s, crate::time::Zone::Required).is_some() => {
                Ok(Value::DateTime(s.into()))
            }
            Some(s) => Err(format!(
                "must be an RFC 3339 date-time with its offset (2026-06-30T12:00:00Z), not {s:?}"
            )),
            None => Err(wrong("an RFC 3339 date-time")),
        },
    }
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "text",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn check_rule(
    rule: &FieldRule,
    value: &Value,
    values: &[Value],
    fields: &[Field],
    problems: &mut Vec<Problem>,
) {
    let name = &rule.name;
    if matches!(value, Value::Null) {
        if rule.required {
            problems.push(problem(name, "required: a value must be given"));
        }
        return;
    }
    if !rule.allowed.is_empty() {
        let fits = rule.allowed.iter().any(|a| match (a, value) {
            (Allowed::Int(i), Value::Int(v)) => i == v,
            (Allowed::Int(i), Value::Real(v)) => *i as f64 == *v,
            (Allowed::Text(t), Value::String(v)) => **t == **v,
            _ => false,
        });
        if !fits {
            let list: Vec<String> = rule.allowed.iter().map(|a| a.to_string()).collect();
            problems.push(problem(
                name,
                format!(
                    "{} is not one of the allowed values: {}",
                    shown(value),
                    list.join(", ")
                ),
            ));
        }
    }
    let number = match value {
        Value::Int(i) => Some(*i as f64),
        Value::Real(r) => Some(*r),
        _ => None,
    };
    if let Some(n) = number {
        if let Some(min) = rule.minimum.filter(|m| n < *m) {
            problems.push(problem(name, format!("{n} is below the minimum {min}")));
        }
        if let Some(max) = rule.maximum.filter(|m| n > *m) {
            problems.push(problem(name, format!("{n} is above the maximum {max}")));
        }
    }
    if let Some(other) = &rule.not_before {
        let other_value = fields
            .iter()
            .position(|f| &f.name == other)
            .and_then(|p| values.get(p));
        let as_text = |v: &Value| match v {
            Value::Date(s) | Value::DateTime(s) => Some(s.clone()),
            _ => None,
        };
        if let (Some(this), Some(that)) = (as_text(value), other_value.and_then(as_text)) {
            // ISO dates compare as text; a date-time against a date compares its date part.
            let n = this.len().min(that.len()).min(10);
            if this[..n] < that[..n] {
                problems.push(problem(
                    name,
                    format!("{this} comes before {other} ({that}): it may not"),
                ));
            }
        }
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Derived;
    use serde_json::json;

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
                field("start_date", FieldType::Date),
                field("end_date", FieldType::Date),
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
                        values: [("1".to_string(), "Infrastrutture".to_string())]
                            .into_iter()
                            .collect(),
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

    fn props(v: Json) -> Map<String, Json> {
        v.as_object().expect("an object").clone()
    }

    fn id() -> Value {
        Value::String("P151".into())
    }

    #[test]
    fn a_good_new_feature_gets_its_id_and_derived_value() {
        let s = schema();
        s.check().expect("the rules fit the schema");
        let v = s
            .apply(
                None,
                &props(json!({"axis": 1, "status": "design", "progress_pct": 0,
                    "budget_eur": 12.5, "start_date": "2026-01-01", "end_date": "2026-01-01"})),
                &id(),
            )
            .expect("valid");
        assert_eq!(v[0], id());
        assert_eq!(v[1], Value::Int(1));
        assert_eq!(v[2], Value::String("Infrastrutture".into()));
        assert_eq!(v[5], Value::Real(12.5));
        assert_eq!(v[7], Value::Date("2026-01-01".into()));
    }

    #[test]
    fn every_problem_is_named_with_its_field_and_rule() {
        let s = schema();
        let problems = s
            .apply(
                None,
                &props(json!({"axis": 9, "status": "done", "progress_pct": 101,
                    "budget_eur": -1, "start_date": "2026-02-01", "end_date": "2026-01-31",
                    "colour": "red", "id": "X1", "axis_name": "Ambiente"})),
                &id(),
            )
            .expect_err("invalid");
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        for expected in [
            "colour",
            "id",
            "axis_name",
            "axis",
            "status",
            "progress_pct",
            "budget_eur",
            "end_date",
        ] {
            assert!(fields.contains(&expected), "{expected} in {problems:?}");
        }
        assert_eq!(problems.len(), 8, "{problems:?}");
        let text = |f: &str| problems.iter().find(|p| p.field == f).unwrap().rule.clone();
        assert!(text("progress_pct").contains("above the maximum 100"));
        assert!(text("budget_eur").contains("below the minimum 0"));
        assert!(text("status").contains("\"done\" is not one of"));
        assert!(text("end_date").contains("comes before start_date"));
        assert!(text("colour").contains("no such field"));
        assert!(text("id").contains("read-only"));
    }

    #[test]
    fn text_with_a_nul_is_refused_and_any_other_character_kept() {
        let refused = typed(FieldType::String, &json!("Ponte\u{0}sul Po")).unwrap_err();
        assert!(refused.contains("NUL"), "{refused}");
        for kept in ["", "\u{1}\t\n\u{7f}", "🚲 \u{202e}", "\"\\"] {
            assert_eq!(
                typed(FieldType::String, &json!(kept)),
                Ok(Value::String(kept.into()))
            );
        }
    }

    #[test]
    fn required_and_types_are_checked() {
        let s = schema();
        let problems = s
            .apply(
                None,
                &props(json!({"progress_pct": "half", "start_date": "2026-02-30",
                    "budget_eur": true})),
                &id(),
            )
            .expect_err("invalid");
        let text = |f: &str| problems.iter().find(|p| p.field == f).unwrap().rule.clone();
        assert_eq!(text("axis"), "required: a value must be given");
        assert_eq!(text("progress_pct"), "must be an integer, not text");
        assert!(text("start_date").contains("YYYY-MM-DD"));
        assert_eq!(text("budget_eur"), "must be a number, not a boolean");
    }

    #[test]
    fn a_patch_changes_only_what_it_sends_and_read_only_values_may_be_echoed() {
        let s = schema();
        let base = s
            .apply(
                None,
                &props(json!({"axis": 1, "status": "design", "progress_pct": 10})),
                &id(),
            )
            .expect("valid");
        let v = s
            .apply(
                Some(&base),
                &props(json!({"progress_pct": 20, "id": "P151", "axis_name": "Infrastrutture"})),
                &id(),
            )
            .expect("valid");
        assert_eq!(v[4], Value::Int(20));
        assert_eq!(v[3], Value::String("design".into()));
        // Null removes a value (RFC 7396), which a required field refuses.
        let problems = s
            .apply(Some(&base), &props(json!({"axis": null})), &id())
            .expect_err("required");
        assert_eq!(problems[0].field, "axis");
        // A real written with a zero fraction is an integer.
        let v = s
            .apply(Some(&base), &props(json!({"progress_pct": 30.0})), &id())
            .expect("valid");
        assert_eq!(v[4], Value::Int(30));
    }

    #[test]
    fn rules_that_do_not_fit_the_schema_are_refused() {
        let mut s = schema();
        s.rules.push(FieldRule {
            name: "colour".into(),
            ..FieldRule::default()
        });
        assert!(s.check().unwrap_err().contains("no such field"));
        let mut s = schema();
        s.rules.push(FieldRule {
            name: "status".into(),
            minimum: Some(1.0),
            ..FieldRule::default()
        });
        assert!(s.check().unwrap_err().contains("need a number field"));
    }

    /// A small seeded generator (the tests do not depend on a crate's algorithm).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn random_value(rng: &mut Rng) -> Json {
        match rng.below(12) {
            0 => Json::Null,
            1 => json!(rng.below(2) == 1),
            2 => json!(rng.below(120) as i64 - 10),
            3 => json!(i64::MAX),
            4 => json!((rng.below(20_000) as f64) / 7.0 - 100.0),
            5 => json!(1e308),
            6 => json!(["design"]),
            7 => json!({"a": 1}),
            8 => json!(format!("2026-{:02}-{:02}", rng.below(14), rng.below(33))),
            9 => json!(["design", "funded", "done", "", "P151"][rng.below(5) as usize]),
            10 => json!("\u{0}<script>é"),
            _ => json!(rng.below(9) as i64),
        }
    }

    #[test]
    fn random_and_mutated_properties_never_panic_and_accepted_ones_keep_every_rule() {
        let s = schema();
        let names: Vec<String> = s.fields.iter().map(|f| f.name.clone()).collect();
        let mut rng = Rng(20261202);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut properties = Map::new();
            for _ in 0..rng.below(8) {
                let name = match rng.below(10) {
                    0 => "colour".to_string(),
                    1 => String::new(),
                    _ => names[rng.below(names.len() as u64) as usize].clone(),
                };
                properties.insert(name, random_value(&mut rng));
            }
            let base = (rng.below(2) == 1).then(|| {
                s.apply(
                    None,
                    &props(json!({"axis": 1, "status": "design", "progress_pct": 5})),
                    &id(),
                )
                .expect("a valid base")
            });
            match s.apply(base.as_deref(), &properties, &id()) {
                Ok(values) => {
                    accepted += 1;
                    assert_eq!(values.len(), s.fields.len());
                    for (v, f) in values.iter().zip(&s.fields) {
                        let fits = matches!(
                            (v, f.ty),
                            (Value::Null, _)
                                | (Value::Int(_), FieldType::Int)
                                | (Value::Real(_), FieldType::Real)
                                | (Value::String(_), FieldType::String)
                                | (Value::Date(_), FieldType::Date)
                        );
                        assert!(fits, "{v:?} in {f:?} from {properties:?}");
                    }
                    // The stored values pass the rules again, sent back whole (as a PUT of
                    // what a client read would send them), and change nothing.
                    let echoed: Map<String, Json> = s
                        .fields
                        .iter()
                        .zip(&values)
                        .map(|(f, v)| (f.name.clone(), v.to_json()))
                        .collect();
                    assert_eq!(s.apply(None, &echoed, &id()), Ok(values.clone()));
                    assert_eq!(s.apply(Some(&values), &Map::new(), &id()), Ok(values));
                }
                Err(problems) => {
                    assert!(!problems.is_empty());
                    for p in &problems {
                        assert!(!p.rule.is_empty(), "{p:?}");
                        assert!(
                            properties.contains_key(&p.field) || s.rule(&p.field).is_some(),
                            "{p:?} names neither a property sent nor a rule: {properties:?}"
                        );
                    }
                }
            }
        }
        assert!(
            accepted > 500,
            "{accepted} accepted: the generator reaches the valid cases"
        );
    }
}
