//! A model of the demo's editable `projects` layer for the edit tests: the catalogue's declared
//! field rules (`[[layer.field]]`) applied the simplest way, written here from the catalogue's
//! documentation and independently of `src/edit/rules.rs`, plus a seeded random generator.
//!
//! Properties are JSON objects holding every field of the layer (null when unset), as the
//! service answers them: integers as JSON integers, reals as JSON floats.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json};
use territorio::catalog::{Allowed, FieldRule};
use territorio::feature::FieldType;
use territorio::store::Catalog;

/// The schema and rules of the projects layer, as the catalogue declares them.
pub struct Rules {
    /// (name, type) in the layer's order.
    pub fields: Vec<(String, FieldType)>,
    pub rules: Vec<FieldRule>,
    /// The field holding the feature id.
    pub id_field: String,
}

impl Rules {
    pub fn of(catalog: &Catalog) -> Rules {
        let layer = catalog.layer("projects").expect("the demo has projects");
        Rules {
            fields: layer
                .fields
                .iter()
                .map(|f| (f.name.clone(), f.ty))
                .collect(),
            rules: layer.config.field_rules.clone(),
            id_field: layer
                .config
                .id_field
                .clone()
                .expect("projects have an id field"),
        }
    }

    fn ty(&self, name: &str) -> Option<FieldType> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, t)| *t)
    }

    fn rule(&self, name: &str) -> Option<&FieldRule> {
        self.rules.iter().find(|r| r.name == name)
    }

    fn read_only(&self, name: &str) -> bool {
        name == self.id_field || self.rule(name).is_some_and(|r| r.derived.is_some())
    }

    /// A feature's properties after a write: `base` (the current properties for a PATCH;
    /// `None` for a new or replaced feature, whose unsent fields are null) with `sent` merged
    /// in, derived fields and the id set. `Err` lists the fields at fault.
    pub fn apply(
        &self,
        base: Option<&Map<String, Json>>,
        sent: &Map<String, Json>,
        id: &str,
    ) -> Result<Map<String, Json>, BTreeSet<String>> {
        let mut out: Map<String, Json> = match base {
            Some(b) => b.clone(),
            None => self
                .fields
                .iter()
                .map(|(n, _)| (n.clone(), Json::Null))
                .collect(),
        };
        let mut bad = BTreeSet::new();
        for (name, value) in sent {
            let Some(ty) = self.ty(name) else {
                bad.insert(name.clone());
                continue;
            };
            if self.read_only(name) {
                continue;
            }
            match of_type(ty, value) {
                Some(v) => {
                    out.insert(name.clone(), v);
                }
                None => {
                    bad.insert(name.clone());
                }
            }
        }
        out.insert(self.id_field.clone(), Json::String(id.to_string()));
        for rule in &self.rules {
            if let Some(d) = &rule.derived {
                let key = match &out[&d.from] {
                    Json::Null => None,
                    Json::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                };
                let value = key
                    .and_then(|k| d.values.get(&k).cloned())
                    .map(Json::String)
                    .unwrap_or(Json::Null);
                out.insert(rule.name.clone(), value);
            }
        }
        for (name, value) in sent {
            if self.read_only(name) && !value.is_null() && out.get(name) != Some(value) {
                bad.insert(name.clone());
            }
        }
        bad.extend(self.broken(&out));
        if bad.is_empty() {
            Ok(out)
        } else {
            Err(bad)
        }
    }

    /// The fields of complete properties that break a declared rule.
    pub fn broken(&self, props: &Map<String, Json>) -> BTreeSet<String> {
        let mut bad = BTreeSet::new();
        for rule in &self.rules {
            let value = props.get(&rule.name).unwrap_or(&Json::Null);
            if value.is_null() {
                if rule.required {
                    bad.insert(rule.name.clone());
                }
                continue;
            }
            if !rule.allowed.is_empty() {
                let fits = rule.allowed.iter().any(|a| match a {
                    Allowed::Int(i) => value.as_f64() == Some(*i as f64),
                    Allowed::Text(t) => value.as_str() == Some(t.as_str()),
                });
                if !fits {
                    bad.insert(rule.name.clone());
                }
            }
            if let Some(n) = value.as_f64() {
                if rule.minimum.is_some_and(|m| n < m) || rule.maximum.is_some_and(|m| n > m) {
                    bad.insert(rule.name.clone());
                }
            }
            if let Some(other) = &rule.not_before {
                if let (Some(this), Some(that)) =
                    (value.as_str(), props.get(other).and_then(Json::as_str))
                {
                    if this[..10] < that[..10] {
                        bad.insert(rule.name.clone());
                    }
                }
            }
        }
        bad
    }
}

/// A JSON value as a value of a field of type `ty` (normalised as the service answers it), or
/// `None` when it is not one.
fn of_type(ty: FieldType, value: &Json) -> Option<Json> {
    if value.is_null() {
        return Some(Json::Null);
    }
    match ty {
        FieldType::Bool => value.as_bool().map(Json::Bool),
        FieldType::Int => {
            if let Some(i) = value.as_i64() {
                return Some(Json::from(i));
            }
            // A number with no fraction is an integer (12.0 is 12).
            let f = value.as_f64()?;
            (f.fract() == 0.0 && f.abs() < 1e15).then(|| Json::from(f as i64))
        }
        FieldType::Real => value.as_f64().map(Json::from),
        FieldType::String => value.as_str().map(|s| Json::String(s.into())),
        FieldType::Date => value
            .as_str()
            .filter(|s| is_date(s))
            .map(|s| Json::String(s.into())),
        FieldType::DateTime => None,
    }
}

/// YYYY-MM-DD naming a real day of the Gregorian calendar.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r.clone()]
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| s[r].parse().ok())
            .flatten()
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// SplitMix64: a small seeded generator, so that a failing run can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `p` (0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The statuses the catalogue allows for projects.
pub const STATUSES: [&str; 5] = ["proposed", "design", "funded", "in_progress", "completed"];
