//! The change log of an editable layer as a layer of its own (`<id>_changes`), served like any
//! collection: QGIS and GDAL add it as a layer, `datetime` selects changes by their time, CQL2
//! filters by user, operation or feature, `bbox` by where the change happened.
//!
//! One feature per change, in sequence order: `seq`, `at` (the change's time, the layer's only
//! date-time field, so `datetime` filters on it), `user`, `operation`, `feature` (the id of the
//! changed feature), `changed` (the fields whose value changed, comma-separated), then the
//! edited layer's fields as they stood after the change (before it, for a deletion); the
//! layer's own dates are kept as text there, so that they do not take part in `datetime`. The
//! geometry is the feature's after the change (before it, for a deletion).
//!
//! The writer appends to it after each commit and rebuilds the layer at most once a second
//! ([`LOG_DELAY`], longer for a long log: [`next_delay`]): O(n log n) in the changes for the
//! R-tree, which every edit would otherwise pay. So the log may show an edit a second or so
//! after the edited layer does; the history of one feature (`/items/{fid}/history`) is read
//! from the store and never lags.

use std::time::Duration;

use crate::catalog::LayerConfig;
use crate::feature::{Feature, FeatureId, Field, FieldType, Value};
use crate::store::{Layer, LoadError};

use super::store::{Change, Recorded};

/// How long after a change the log layer shows it, at most, while its rebuilds are quick.
pub const LOG_DELAY: Duration = Duration::from_secs(1);

/// The time to wait before the next rebuild of a log whose last rebuild took `took`: at least
/// [`LOG_DELAY`], and twenty times the rebuild, so that a long log under a stream of edits
/// takes at most a twentieth of the writer's time (a log of 50,000 changes rebuilds in about
/// 50 ms: once a second).
pub fn next_delay(took: Duration) -> Duration {
    LOG_DELAY.max(took * 20)
}

/// The id of the log layer of layer `id`.
pub fn log_id(id: &str) -> String {
    format!("{id}_changes")
}

/// The fields of the log of a layer with `fields`.
pub fn log_fields(fields: &[Field]) -> Vec<Field> {
    let own = |name: &str, ty| Field {
        name: name.to_string(),
        ty,
    };
    let mut out = vec![
        own("seq", FieldType::Int),
        own("at", FieldType::DateTime),
        own("user", FieldType::String),
        own("operation", FieldType::String),
        own("feature", FieldType::String),
        own("changed", FieldType::String),
    ];
    out.extend(fields.iter().map(|f| Field {
        name: f.name.clone(),
        ty: match f.ty {
            FieldType::Date | FieldType::DateTime => FieldType::String,
            other => other,
        },
    }));
    out
}

/// The feature of the log for one recorded change; `None` when the change has no state (never
/// the case for changes the service records).
pub fn log_feature(fields: &[Field], recorded: &Recorded) -> Option<Feature> {
    let c: &Change = &recorded.change;
    let state = c.after.as_ref().or(c.before.as_ref())?;
    let changed: Vec<&str> = fields
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            c.before.as_ref().map(|s| &s.values[*i]) != c.after.as_ref().map(|s| &s.values[*i])
        })
        .map(|(_, f)| f.name.as_str())
        .collect();
    let mut values = vec![
        Value::Int(recorded.seq as i64),
        Value::DateTime(c.at.clone()),
        Value::String(c.user.clone()),
        Value::String(c.operation.name().to_string()),
        Value::String(c.feature.to_string()),
        Value::String(changed.join(",")),
    ];
    values.extend(state.values.iter().map(|v| match v {
        Value::Date(s) | Value::DateTime(s) => Value::String(s.clone()),
        other => other.clone(),
    }));
    Some(Feature {
        id: FeatureId::Int(recorded.seq as i64),
        geometry: state.geometry.clone(),
        values,
        invalid: None,
    })
}

/// The log layer of `layer`, with `features` (from [`log_feature`]).
pub fn log_layer(layer: &Layer, features: Vec<Feature>) -> Result<Layer, LoadError> {
    let config = LayerConfig {
        id: log_id(layer.id()),
        title: format!("{}: changes", layer.config.title),
        description: format!(
            "Every change of {} ({}): who, when, which feature, which operation, and the \
             feature after the change (before it, for a deletion). datetime selects changes \
             by their time (at).",
            layer.config.title,
            layer.id()
        ),
        system: layer.config.system,
        source: layer.config.source.clone(),
        table: None,
        geometry_column: None,
        database: None,
        layer: None,
        id_field: Some("seq".into()),
        crs: None,
        style: None,
        edit: None,
        field_rules: Vec::new(),
    };
    let last = features
        .last()
        .and_then(|f: &Feature| match f.id {
            FeatureId::Int(seq) => Some(seq as u64),
            FeatureId::Str(_) => None,
        })
        .unwrap_or(0);
    let mut log = Layer::new(
        config,
        layer.source_crs.clone(),
        "territorio change log".into(),
        log_fields(&layer.fields),
        features,
    )?;
    log.version = last;
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::store::{Operation, State};
    use geo::point;

    #[test]
    fn a_change_becomes_a_feature_with_what_changed_and_the_state_after() {
        let fields = vec![
            Field {
                name: "status".into(),
                ty: FieldType::String,
            },
            Field {
                name: "end_date".into(),
                ty: FieldType::Date,
            },
        ];
        let before = State {
            values: vec![
                Value::String("design".into()),
                Value::Date("2026-01-01".into()),
            ],
            geometry: point!(x: 1.0, y: 2.0).into(),
        };
        let after = State {
            values: vec![
                Value::String("funded".into()),
                Value::Date("2026-01-01".into()),
            ],
            geometry: point!(x: 1.0, y: 2.0).into(),
        };
        let r = Recorded {
            seq: 7,
            change: Change {
                layer: "projects".into(),
                feature: FeatureId::Str("P001".into()),
                operation: Operation::Update,
                at: "2026-06-30T10:00:00Z".into(),
                user: "anna".into(),
                before: Some(before.clone()),
                after: Some(after),
            },
        };
        let f = log_feature(&fields, &r).expect("a feature");
        assert_eq!(f.id, FeatureId::Int(7));
        assert_eq!(
            f.values,
            vec![
                Value::Int(7),
                Value::DateTime("2026-06-30T10:00:00Z".into()),
                Value::String("anna".into()),
                Value::String("update".into()),
                Value::String("P001".into()),
                Value::String("status".into()),
                Value::String("funded".into()),
                // The layer's dates are text in the log: only `at` is its time.
                Value::String("2026-01-01".into()),
            ]
        );
        // A deletion shows the feature as it was.
        let deleted = Recorded {
            seq: 8,
            change: Change {
                operation: Operation::Delete,
                before: Some(before),
                after: None,
                ..r.change.clone()
            },
        };
        let f = log_feature(&fields, &deleted).expect("a feature");
        assert_eq!(f.values[5], Value::String("status,end_date".into()));
        assert_eq!(f.values[6], Value::String("design".into()));
        let schema = log_fields(&fields);
        assert_eq!(schema[1].ty, FieldType::DateTime);
        assert_eq!(schema[7].ty, FieldType::String);
    }
}
