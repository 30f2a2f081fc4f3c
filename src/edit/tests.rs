//! The editor end to end, without HTTP: a layer in memory, a store in a temporary folder.

use std::sync::{Arc, Mutex};

use geo::{line_string, point, Geometry};
use serde_json::{json, Map, Value as Json};

use super::*;
use crate::catalog::{Allowed, CatalogConfig, EditConfig, FieldRule, LayerConfig, System};
use crate::feature::{Feature, FeatureId, Field, FieldType, Value};
use crate::store::{Catalog, Layer};

fn fields() -> Vec<Field> {
    vec![
        Field {
            name: "id".into(),
            ty: FieldType::String,
        },
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

fn config() -> LayerConfig {
    LayerConfig {
        id: "projects".into(),
        title: "Projects".into(),
        description: "d".into(),
        system: System::Projects,
        source: "projects.geojson".into(),
        table: None,
        geometry_column: None,
        database: None,
        layer: None,
        id_field: Some("id".into()),
        crs: None,
        style: None,
        edit: Some(EditConfig {
            history: None,
            id_prefix: Some("P".into()),
        }),
        field_rules: vec![
            FieldRule {
                name: "status".into(),
                required: true,
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
        ],
    }
}

fn project(id: &str, x: f64, progress: i64) -> Feature {
    Feature {
        id: FeatureId::Str(id.into()),
        geometry: point!(x: x, y: 5_000_000.0).into(),
        values: vec![
            Value::String(id.into()),
            Value::String("design".into()),
            Value::Int(progress),
        ]
        .into(),
        invalid: None,
    }
}

fn catalog() -> Catalog {
    let layer = Layer::new(
        config(),
        "EPSG:32632".into(),
        "GeoJSON".into(),
        fields(),
        vec![
            project("P001", 600_000.0, 10),
            project("P002", 601_000.0, 20),
        ],
    )
    .expect("a layer");
    let catalog_config = CatalogConfig {
        path: "memory.toml".into(),
        working_crs: "EPSG:32632".into(),
        styles_dir: "styles".into(),
        layers: vec![config()],
        roles: Default::default(),
    };
    Catalog::from_layers(catalog_config, "EPSG:32632".into(), vec![layer])
}

/// An editor on a fresh store in `dir`, and the catalogues it publishes.
fn editor(dir: &std::path::Path) -> (Editor, Arc<Mutex<Vec<Arc<Catalog>>>>) {
    let (catalog, store) = open(catalog(), dir).expect("opens");
    let published = Arc::new(Mutex::new(vec![Arc::new(catalog)]));
    let sink = published.clone();
    let first = published.lock().unwrap()[0].clone();
    let editor = Editor::start(
        first,
        store,
        dir,
        Box::new(move |c, _| sink.lock().unwrap().push(c)),
    );
    (editor, published)
}

fn props(v: Json) -> Map<String, Json> {
    v.as_object().expect("object").clone()
}

fn request(write: Write) -> Request {
    Request {
        layer: "projects".into(),
        write,
        user: "anna".into(),
        if_match: None,
    }
}

/// How many different states of the projects layer were published.
fn project_states(published: &Mutex<Vec<Arc<Catalog>>>) -> usize {
    let all = published.lock().unwrap();
    let mut states: Vec<u64> = all
        .iter()
        .map(|c| {
            c.layer("projects")
                .unwrap()
                .revisions
                .as_ref()
                .unwrap()
                .layer
        })
        .collect();
    states.dedup();
    states.len()
}

fn values_of(catalog: &Catalog, id: &str) -> Option<Vec<Value>> {
    let layer = catalog.layer("projects")?;
    layer
        .get(&FeatureId::Str(id.into()))
        .map(|f| f.values.to_vec())
}

#[tokio::test]
async fn create_patch_replace_delete_each_publish_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (editor, published) = editor(dir.path());
    let created = editor
        .submit(request(Write::Create {
            geometry: point!(x: 602_000.0, y: 5_000_000.0).into(),
            properties: props(json!({"status": "funded", "progress_pct": 0})),
        }))
        .await
        .expect("created");
    // The next number after P002, as wide as the existing ids.
    assert_eq!(created.id, FeatureId::Str("P003".into()));
    assert_eq!(
        values_of(&created.catalog, "P003"),
        Some(vec![
            Value::String("P003".into()),
            Value::String("funded".into()),
            Value::Int(0)
        ])
    );
    let tag = created.tag.clone().expect("a tag");

    let patched = editor
        .submit(Request {
            if_match: Some(IfMatch::Tags(vec![tag.clone()])),
            ..request(Write::Patch {
                id: FeatureId::Str("P003".into()),
                geometry: None,
                properties: props(json!({"progress_pct": 40})),
            })
        })
        .await
        .expect("patched");
    assert_ne!(
        patched.tag.as_deref(),
        Some(tag.as_str()),
        "the tag changes"
    );
    assert_eq!(
        values_of(&patched.catalog, "P003").unwrap()[1..],
        [Value::String("funded".into()), Value::Int(40)]
    );

    let replaced = editor
        .submit(request(Write::Replace {
            id: FeatureId::Str("P001".into()),
            geometry: point!(x: 600_100.0, y: 5_000_050.0).into(),
            properties: props(json!({"status": "design"})),
        }))
        .await
        .expect("replaced");
    // Properties not sent are null after a replacement.
    assert_eq!(
        values_of(&replaced.catalog, "P001").unwrap()[2],
        Value::Null
    );
    let moved = &replaced
        .catalog
        .layer("projects")
        .unwrap()
        .get(&FeatureId::Str("P001".into()))
        .unwrap()
        .geometry;
    assert_eq!(*moved, Geometry::from(point!(x: 600_100.0, y: 5_000_050.0)));

    editor
        .submit(request(Write::Delete {
            id: FeatureId::Str("P003".into()),
        }))
        .await
        .expect("deleted");
    let last = published.lock().unwrap().last().unwrap().clone();
    assert!(values_of(&last, "P003").is_none());
    assert_eq!(project_states(&published), 5, "one state per edit");
    // A new feature does not take the id of the deleted one.
    let again = editor
        .submit(request(Write::Create {
            geometry: point!(x: 602_000.0, y: 5_000_000.0).into(),
            properties: props(json!({"status": "funded"})),
        }))
        .await
        .expect("created");
    assert_eq!(again.id, FeatureId::Str("P004".into()));
    let before_restart = again.catalog.clone();
    drop(editor);

    // Restarted on the same folder: the state is the stored one, with the same tags.
    let (catalog, _store) = open(catalog(), dir.path()).expect("reopens");
    let layer = catalog.layer("projects").unwrap();
    let old = before_restart.layer("projects").unwrap();
    assert_eq!(layer.features.len(), 3);
    for f in &old.features {
        let i = layer.position(&f.id).expect("still there");
        assert_eq!(layer.features[i].values, f.values);
        assert_eq!(layer.features[i].geometry, f.geometry);
        assert_eq!(
            layer.feature_tag(i),
            old.feature_tag(old.position(&f.id).unwrap())
        );
    }
    // And the history has every change: two imports, then five edits.
    let (log, total) = store::history(
        &crate::edit::store::StoreAt::Folder(dir.path().to_path_buf()),
        &fields(),
        &store::HistoryQuery {
            layer: "projects".into(),
            limit: 100,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(total, 7);
    let ops: Vec<&str> = log.iter().map(|r| r.change.operation.name()).collect();
    assert_eq!(
        ops,
        ["import", "import", "create", "update", "replace", "delete", "create"]
    );
    assert!(log[2..].iter().all(|r| r.change.user == "anna"));
    // The update's before and after.
    let update = &log[3].change;
    assert_eq!(update.before.as_ref().unwrap().values[2], Value::Int(0));
    assert_eq!(update.after.as_ref().unwrap().values[2], Value::Int(40));
}

/// The ids of the published layer, in the order it serves them.
fn order(catalog: &Catalog) -> Vec<String> {
    let layer = catalog.layer("projects").unwrap();
    layer.features.iter().map(|f| f.id.to_string()).collect()
}

#[tokio::test]
async fn a_deletion_keeps_the_order_the_store_gives_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (editor, _published) = editor(dir.path());
    for x in [602_000.0, 603_000.0] {
        editor
            .submit(request(Write::Create {
                geometry: point!(x: x, y: 5_000_000.0).into(),
                properties: props(json!({"status": "funded"})),
            }))
            .await
            .expect("created");
    }
    let done = editor
        .submit(request(Write::Delete {
            id: FeatureId::Str("P001".into()),
        }))
        .await
        .expect("deleted");
    // Not P004 moved into P001's place.
    assert_eq!(order(&done.catalog), ["P002", "P003", "P004"]);
    drop(editor);
    let (restarted, _store) = open(catalog(), dir.path()).expect("reopens");
    assert_eq!(order(&restarted), order(&done.catalog));
}

#[test]
fn a_new_id_is_not_guessed_when_the_store_cannot_list_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (catalog, store) = open(catalog(), dir.path()).expect("opens");
    let mut writer = Writer {
        catalog: Arc::new(catalog),
        backend: Backend::Sqlite(store),
        publish: Box::new(|_, _| {}),
        next_ids: HashMap::new(),
        logs: HashMap::new(),
        writable: Arc::new(std::sync::atomic::AtomicBool::new(true)),
    };
    assert_eq!(
        writer.next_id("projects").unwrap(),
        3,
        "after P001 and P002"
    );
    // A store whose change log cannot be read (removed by another process here).
    writer.next_ids.clear();
    let Backend::Sqlite(store) = &writer.backend else {
        unreachable!()
    };
    let other = rusqlite::Connection::open(store.file()).unwrap();
    other.execute_batch("DROP TABLE changes").unwrap();
    // Not 1, which would give the new feature P001's id.
    assert!(writer.next_id("projects").is_err());
}

#[tokio::test]
async fn a_refused_edit_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (editor, published) = editor(dir.path());
    let stale = editor
        .submit(Request {
            if_match: Some(IfMatch::Tags(vec!["\"someone-else\"".into()])),
            ..request(Write::Patch {
                id: FeatureId::Str("P001".into()),
                geometry: None,
                properties: props(json!({"progress_pct": 50})),
            })
        })
        .await
        .expect_err("stale");
    assert!(matches!(stale, EditError::Stale { .. }), "{stale}");
    let invalid = editor
        .submit(request(Write::Patch {
            id: FeatureId::Str("P001".into()),
            geometry: None,
            properties: props(json!({"progress_pct": 150, "status": "done", "colour": 1})),
        }))
        .await
        .expect_err("invalid");
    let EditError::Invalid(problems) = &invalid else {
        panic!("{invalid}")
    };
    assert_eq!(problems.len(), 3, "{problems:?}");
    let line = editor
        .submit(request(Write::Create {
            geometry: line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0)].into(),
            properties: props(json!({"status": "design"})),
        }))
        .await
        .expect_err("a line in a point layer");
    assert!(
        line.to_string().contains("Points, not LineStrings"),
        "{line}"
    );
    let missing = editor
        .submit(request(Write::Delete {
            id: FeatureId::Str("P999".into()),
        }))
        .await
        .expect_err("no such feature");
    assert!(matches!(missing, EditError::NotFound { .. }), "{missing}");
    assert_eq!(published.lock().unwrap().len(), 1, "nothing published");
    let (catalog, _store) = open(catalog(), dir.path()).expect("reopens");
    assert_eq!(
        values_of(&catalog, "P001").unwrap()[2],
        Value::Int(10),
        "nothing stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_are_all_applied_in_some_order() {
    let dir = tempfile::tempdir().unwrap();
    let (editor, published) = editor(dir.path());
    let editor = Arc::new(editor);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let editor = editor.clone();
        tasks.push(tokio::spawn(async move {
            editor
                .submit(request(Write::Create {
                    geometry: point!(x: 600_000.0 + f64::from(i), y: 5_000_000.0).into(),
                    properties: props(json!({"status": "design", "progress_pct": i % 101})),
                }))
                .await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let done = t.await.unwrap().expect("created");
        ids.insert(done.id.to_string());
    }
    assert_eq!(ids.len(), 200, "every new feature has its own id");
    assert!(ids.contains("P003") && ids.contains("P202"));
    let last = published.lock().unwrap().last().unwrap().clone();
    assert_eq!(last.layer("projects").unwrap().features.len(), 202);
    // Waiting edits share transactions: fewer catalogues than edits is allowed, never more.
    assert!(project_states(&published) <= 201);
    // The change log is published with the edited layer: the last catalogue's shows every
    // change, the two imports and the 200 creations, in sequence order, read from the store.
    let log = last.layer("projects_changes").unwrap();
    assert_eq!(log.count(), 202);
    assert!(log.features.is_empty(), "the changes are in the store");
    let changes = log.change_log.as_ref().expect("a change log");
    let seqs = changes.page(log.version, 0, 1000);
    let expected: Vec<u64> = (1..=202).collect();
    assert_eq!(seqs, expected);
    let features = changes.read(&seqs).expect("read from the store");
    let ids: Vec<FeatureId> = features.iter().map(|f| f.id.clone()).collect();
    assert_eq!(ids, (1..=202).map(FeatureId::Int).collect::<Vec<_>>());
    assert!(features[2..]
        .iter()
        .all(|f| f.values[3] == Value::String("create".into())
            && f.values[2] == Value::String("anna".into())));
    // Each creation's log entry holds the feature as created.
    let created: std::collections::BTreeSet<i64> = features[2..]
        .iter()
        .map(|f| match f.values[6 + 2] {
            Value::Int(n) => n,
            ref other => panic!("progress_pct {other:?}"),
        })
        .collect();
    assert_eq!(created, (0..=100).collect());
}

#[test]
fn a_history_file_that_contradicts_the_source_stops_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    std::fs::write(
        &history,
        r#"{"at":"2025-01-01T00:00:00Z","user":"m","id":"P001","op":"create","set":{"progress_pct":99}}"#,
    )
    .unwrap();
    let mut c = catalog();
    let layer = c.layer("projects").unwrap();
    let mut config = layer.config.clone();
    config.edit.as_mut().unwrap().history = Some(history);
    let rebuilt = Layer::new(
        config,
        layer.source_crs.clone(),
        layer.driver.clone(),
        layer.fields.clone(),
        layer.features.clone(),
    )
    .unwrap();
    c = c.with_layer(rebuilt).unwrap();
    let e = open(c, &dir.path().join("data"))
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("feature P001"), "{e}");
    assert!(e.contains("progress_pct"), "{e}");
}

/// What another server committed, as [`store::Recorded`].
fn recorded(seq: u64, id: &str, operation: Operation, after: Option<Feature>) -> store::Recorded {
    store::Recorded {
        seq,
        change: Change {
            layer: "projects".into(),
            feature: FeatureId::Str(id.into()),
            operation,
            at: "2026-12-03T10:00:00Z".into(),
            user: "altro".into(),
            before: None,
            after: after.map(|f| State {
                values: f.values.into_vec(),
                geometry: f.geometry,
            }),
        },
    }
}

#[test]
fn changes_of_another_server_are_applied_with_their_revisions_and_ids() {
    let dir = tempfile::tempdir().unwrap();
    let (catalog, store) = open(catalog(), dir.path()).expect("opens");
    let published = Arc::new(Mutex::new(Vec::<Changed>::new()));
    let sink = published.clone();
    let mut writer = Writer {
        catalog: Arc::new(catalog),
        backend: Backend::Sqlite(store),
        publish: Box::new(move |_, changed| sink.lock().unwrap().push(changed)),
        next_ids: HashMap::new(),
        logs: HashMap::new(),
        writable: Arc::new(std::sync::atomic::AtomicBool::new(true)),
    };
    // After P001 and P002, the next new id is 3.
    assert_eq!(writer.next_id("projects").unwrap(), 3);
    let store_id = writer.store_id();
    // Elsewhere: P001's progress set to 55 (seq 10), P007 made (11), P002 deleted (12).
    writer.apply_recorded(vec![
        recorded(
            10,
            "P001",
            Operation::Update,
            Some(project("P001", 600_000.0, 55)),
        ),
        recorded(
            11,
            "P007",
            Operation::Create,
            Some(project("P007", 602_000.0, 0)),
        ),
        recorded(12, "P002", Operation::Delete, None),
    ]);
    let layer = writer.catalog.layer("projects").unwrap();
    let ids: Vec<&FeatureId> = layer.features.iter().map(|f| &f.id).collect();
    assert_eq!(
        ids,
        [
            &FeatureId::Str("P001".into()),
            &FeatureId::Str("P007".into())
        ]
    );
    assert_eq!(layer.features[0].values[2], Value::Int(55));
    assert_eq!(layer.version, 12, "the layer's last change");
    assert_eq!(
        layer.feature_tag(0),
        Some(format!("\"{store_id}-10\"")),
        "P001's tag names its change elsewhere"
    );
    assert_eq!(layer.feature_tag(1), Some(format!("\"{store_id}-11\"")));
    // One publication, of the projects layer; new ids here go above P007.
    let pos = writer.catalog.position("projects").unwrap();
    assert_eq!(*published.lock().unwrap(), vec![Changed::Layer(pos)]);
    assert_eq!(writer.next_id("projects").unwrap(), 8);
    // A layer this server does not serve, or a deletion of a feature it never had: nothing.
    let mut unknown = recorded(13, "X1", Operation::Create, Some(project("X1", 0.0, 1)));
    unknown.change.layer = "other".into();
    writer.apply_recorded(vec![unknown, recorded(14, "P099", Operation::Delete, None)]);
    let layer = writer.catalog.layer("projects").unwrap();
    assert_eq!(layer.features.len(), 2);
    assert_eq!(
        layer.version, 14,
        "the deletion of an unknown feature is still a change"
    );
}
