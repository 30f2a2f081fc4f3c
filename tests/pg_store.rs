//! The PostgreSQL store of edits against the SQLite store: the same import and the same
//! commits give the same features, revisions, ids and changes; two connections (two servers)
//! see each other's commits in order; a commit notifies; a DBA reads the tables with SQL.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use geo::{point, Geometry};
use postgres::fallible_iterator::FallibleIterator;
use territorio::edit::pg::{PgStore, CHANNEL};
use territorio::edit::store::{self, HistoryQuery, StoreAt};
use territorio::edit::store::{Change, Operation, Recorded, State, Store};
use territorio::edit::{history, log, timeline};
use territorio::feature::{FeatureId, Field, Value};
use territorio::store::Catalog;

use common::pg::Cluster;

const WORKING: &str = "EPSG:32632";

/// The demo's projects, with their history file.
fn projects() -> (Catalog, Vec<Field>, Vec<Change>) {
    let catalog =
        territorio::catalog::CatalogConfig::from_file(&common::process::demo_catalog_file())
            .unwrap();
    let catalog = Catalog::load(catalog, &|_| {}).unwrap();
    let layer = catalog.layer("projects").unwrap();
    let file = layer.config.edit.as_ref().unwrap().history.clone().unwrap();
    let changes = history::read(&file, "projects", &layer.fields, &layer.features).unwrap();
    let fields = layer.fields.clone();
    (catalog, fields, changes)
}

fn change(id: &str, operation: Operation, before: Option<State>, after: Option<State>) -> Change {
    Change {
        layer: "projects".into(),
        feature: FeatureId::Str(id.into()),
        operation,
        at: "2026-12-03T10:00:00Z".into(),
        user: "ufficio".into(),
        before,
        after,
    }
}

#[test]
fn the_postgresql_store_keeps_what_the_sqlite_store_keeps() {
    let cluster = Cluster::start();
    cluster.create_database("ptcp", true);
    let dsn = cluster.dsn("ptcp");
    let (catalog, fields, imported) = projects();
    let layer = catalog.layer("projects").unwrap();
    let fields_of = |l: &str| (l == "projects").then(|| fields.clone());

    let dir = tempfile::tempdir().unwrap();
    let mut lite = Store::open(dir.path()).unwrap();
    let mut pg = PgStore::open(&dsn, WORKING).unwrap();
    assert!(!pg.has_layer("projects").unwrap());
    let at = "2026-12-01T09:00:00Z";
    lite.import(
        "projects",
        "projects.geojson",
        &fields,
        &layer.features,
        &imported,
        at,
    )
    .unwrap();
    pg.import(
        "projects",
        "projects.geojson",
        &fields,
        &layer.features,
        &imported,
        at,
    )
    .unwrap();
    assert!(pg.has_layer("projects").unwrap());
    // A second server importing the same layer finds it there, under the write lock.
    let mut second = PgStore::open(&dsn, WORKING).unwrap();
    let again = second
        .import(
            "projects",
            "projects.geojson",
            &fields,
            &layer.features,
            &imported,
            at,
        )
        .unwrap();
    assert!(!again, "imported once");
    drop(second);

    let same = |lite: &Store, pg: &mut PgStore| {
        let a = lite.features("projects", &fields).unwrap();
        let b = pg.features("projects", &fields).unwrap();
        assert_eq!(a.len(), b.len());
        for ((fa, ra), (fb, rb)) in a.iter().zip(&b) {
            assert_eq!(fa.id, fb.id);
            assert_eq!(fa.values, fb.values, "{}", fa.id);
            assert_eq!(fa.geometry, fb.geometry, "{}", fa.id);
            assert_eq!(ra, rb, "{}: revision", fa.id);
        }
        assert_eq!(
            lite.last_change("projects").unwrap(),
            pg.last_change("projects").unwrap()
        );
        let mut ids_a = lite.all_ids("projects").unwrap();
        let mut ids_b = pg.all_ids("projects").unwrap();
        ids_a.sort();
        ids_b.sort();
        assert_eq!(ids_a, ids_b);
    };
    same(&lite, &mut pg);
    // Every project is there, and the history file's 515 changes plus one import change for
    // each project without history.
    assert_eq!(
        pg.features("projects", &fields).unwrap().len(),
        layer.features.len()
    );
    let all = pg.changes_since(0, &fields_of).unwrap();
    assert_eq!(
        &all[..imported.len()]
            .iter()
            .map(|r| r.change.clone())
            .collect::<Vec<_>>(),
        &imported
    );
    assert_eq!(all.len(), pg.last_seq().unwrap() as usize);

    // A batch: one update, one creation, one deletion.
    let p1 = layer.get(&FeatureId::Str("P001".into())).unwrap();
    let p2 = layer.get(&FeatureId::Str("P002".into())).unwrap();
    let progress = layer.field_index("progress_pct").unwrap();
    let mut values = p1.values.to_vec();
    values[progress] = Value::Int(77);
    let mut new_values = p1.values.to_vec();
    new_values[0] = Value::String("P999".into());
    let batch = vec![
        change(
            "P001",
            Operation::Update,
            Some(State {
                values: p1.values.to_vec(),
                geometry: p1.geometry.clone(),
            }),
            Some(State {
                values,
                geometry: p1.geometry.clone(),
            }),
        ),
        change(
            "P999",
            Operation::Create,
            None,
            Some(State {
                values: new_values,
                geometry: Geometry::Point(point!(x: 600_000.0, y: 5_000_000.0)),
            }),
        ),
        change(
            "P002",
            Operation::Delete,
            Some(State {
                values: p2.values.to_vec(),
                geometry: p2.geometry.clone(),
            }),
            None,
        ),
    ];
    let before = pg.last_seq().unwrap();
    let seqs_lite = lite.commit(&fields, &batch).unwrap();
    let seqs_pg = pg
        .commit(&fields_of, before, &mut |missed: Vec<Recorded>| {
            assert!(missed.is_empty(), "no other writer");
            Ok::<_, ()>(batch.clone())
        })
        .unwrap()
        .unwrap();
    assert_eq!(seqs_lite, seqs_pg);
    assert_eq!(seqs_pg, vec![before + 1, before + 2, before + 3]);
    same(&lite, &mut pg);
    // The history and the past states read from either store are the same.
    let folder = StoreAt::Folder(dir.path().to_path_buf());
    let database = StoreAt::Postgres(dsn.clone());
    for q in [
        HistoryQuery {
            layer: "projects".into(),
            limit: usize::MAX >> 1,
            ..HistoryQuery::default()
        },
        HistoryQuery {
            layer: "projects".into(),
            feature: Some(FeatureId::Str("P001".into())),
            limit: 3,
            offset: 1,
            ..HistoryQuery::default()
        },
        HistoryQuery {
            layer: "projects".into(),
            from: Some("2025-06-01T00:00:00Z".into()),
            to: Some("2025-12-31T23:59:59Z".into()),
            limit: 1000,
            ..HistoryQuery::default()
        },
    ] {
        let a = store::history(&folder, &fields, &q).unwrap();
        let b = store::history(&database, &fields, &q).unwrap();
        assert!(!a.0.is_empty(), "{q:?}");
        assert_eq!(a, b, "{q:?}");
    }
    let instants: Vec<i64> = [
        "2025-01-01T00:00:00Z",
        "2025-09-30T12:00:00Z",
        "2026-12-03T12:00:00Z",
    ]
    .iter()
    .map(|t| {
        territorio::time::parse_timestamp(t, territorio::time::Zone::MayOmit).unwrap()
            / 1_000_000_000
    })
    .map(|n| n as i64)
    .collect();
    let a = timeline::states_at(&folder, "projects", &fields, &instants).unwrap();
    let b = timeline::states_at(&database, "projects", &fields, &instants).unwrap();
    assert_eq!(
        a.iter().map(Vec::len).collect::<Vec<_>>(),
        b.iter().map(Vec::len).collect::<Vec<_>>()
    );
    for (fa, fb) in a.iter().flatten().zip(b.iter().flatten()) {
        assert_eq!(
            (&fa.id, &fa.values, &fa.geometry),
            (&fb.id, &fb.values, &fb.geometry)
        );
    }
    assert!(
        a[0].is_empty() && !a[1].is_empty(),
        "before the first round, nothing"
    );
    assert_eq!(
        timeline::first_change(&folder, "projects").unwrap(),
        timeline::first_change(&database, "projects").unwrap()
    );

    // The change log: its index and the changes it reads are the same from either store, and
    // the same as the history read whole makes them; every change has a state, so it shows
    // them all.
    let last = pg.last_seq().unwrap();
    let every: Vec<u64> = (1..=last).collect();
    let whole = store::history(
        &folder,
        &fields,
        &HistoryQuery {
            layer: "projects".into(),
            limit: usize::MAX >> 1,
            ..HistoryQuery::default()
        },
    )
    .unwrap()
    .0;
    let expected: Vec<_> = whole
        .iter()
        .filter_map(|r| log::log_feature(&fields, r))
        .map(|f| (f.id, f.values, f.geometry))
        .collect();
    assert_eq!(expected.len(), every.len());
    // The history file's first change, and the batch above: the log's first and last times.
    let first_time = imported.iter().map(|c| c.at.clone()).min().unwrap();
    for at in [&folder, &database] {
        let changes = log::ChangeLog::open(at, layer).unwrap();
        assert_eq!(changes.count(last), every.len(), "{at:?}");
        assert_eq!(changes.page(last, 0, usize::MAX), every, "{at:?}");
        assert_eq!(changes.page(last, 10, 5), (11..=15).collect::<Vec<_>>());
        let read: Vec<_> = changes
            .read(&every)
            .unwrap()
            .into_iter()
            .map(|f| (f.id, f.values, f.geometry))
            .collect();
        assert_eq!(read, expected, "{at:?}");
        // Read in another order, given back in that order.
        let some = [before + 3, 2, before + 1];
        let ids: Vec<FeatureId> = changes
            .read(&some)
            .unwrap()
            .into_iter()
            .map(|f| f.id)
            .collect();
        assert_eq!(ids, some.map(|s| FeatureId::Int(s as i64)));
        assert_eq!(
            changes.temporal_extent(last),
            Some([
                Some(first_time.clone()),
                Some("2026-12-03T10:00:00Z".into())
            ]),
            "{at:?}"
        );
        // A metre around the new P999: its creation is a candidate; up to the change before
        // it, it is not.
        let around = geo::Rect::new((599_999.0, 4_999_999.0), (600_001.0, 5_000_001.0));
        assert!(changes
            .select(last, &[around], None)
            .contains(&(before + 2)));
        assert!(!changes
            .select(before + 1, &[around], None)
            .contains(&(before + 2)));
        assert_eq!(
            changes.find(last, &(before + 2).to_string()),
            Some(before + 2)
        );
        assert_eq!(changes.find(before + 1, &(before + 2).to_string()), None);
    }

    let recorded = pg.changes_since(before, &fields_of).unwrap();
    assert_eq!(
        recorded
            .iter()
            .map(|r| r.change.clone())
            .collect::<Vec<_>>(),
        batch
    );

    // A second server's connection: it commits after catching up with the first's changes,
    // which it is handed inside its transaction.
    let mut other = PgStore::open(&dsn, WORKING).unwrap();
    assert_eq!(other.id, pg.id, "one store, one id");
    let mut listener = postgres::Client::connect(&dsn, postgres::NoTls).unwrap();
    listener
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .unwrap();
    let mut seen = Vec::new();
    let refused = other
        .commit(&fields_of, before, &mut |missed: Vec<Recorded>| {
            seen = missed.iter().map(|r| r.seq).collect();
            Err::<Vec<Change>, _>("stale")
        })
        .unwrap();
    assert_eq!(refused, Err("stale"), "the check refused: nothing written");
    assert_eq!(seen, seqs_pg, "the changes it had not seen, in order");
    assert_eq!(other.last_seq().unwrap(), before + 3);
    // Accepted: a deletion of P003 (an edit whose states the check gives).
    let p3 = layer.get(&FeatureId::Str("P003".into())).unwrap();
    let delete = vec![change(
        "P003",
        Operation::Delete,
        Some(State {
            values: p3.values.to_vec(),
            geometry: p3.geometry.clone(),
        }),
        None,
    )];
    let seqs = other
        .commit(&fields_of, before + 3, &mut |missed| {
            assert!(missed.is_empty());
            Ok::<_, ()>(delete.clone())
        })
        .unwrap()
        .unwrap();
    assert_eq!(seqs, vec![before + 4]);
    let note = listener
        .notifications()
        .timeout_iter(Duration::from_secs(5))
        .next()
        .unwrap()
        .expect("a notification");
    assert_eq!(note.channel(), CHANNEL);
    assert_eq!(note.payload(), (before + 4).to_string());
    assert!(pg
        .features("projects", &fields)
        .unwrap()
        .iter()
        .all(|(f, _)| f.id != FeatureId::Str("P003".into())));

    // A DBA's view: the tables answer SQL, the geometries are PostGIS ones in the working CRS.
    assert_eq!(
        cluster.psql(
            "ptcp",
            "SELECT count(*) FROM territorio.changes WHERE layer = 'projects' AND operation = 'delete'"
        ),
        "2"
    );
    assert_eq!(
        cluster.psql(
            "ptcp",
            "SELECT DISTINCT ST_SRID(geometry) FROM territorio.features"
        ),
        "32632"
    );
    assert_eq!(
        cluster.psql(
            "ptcp",
            "SELECT properties->>'progress_pct' FROM territorio.features WHERE id = '\"P001\"'"
        ),
        "77"
    );
    let by_user: HashMap<String, usize> = pg
        .changes_since(0, &fields_of)
        .unwrap()
        .into_iter()
        .fold(HashMap::new(), |mut m, r| {
            *m.entry(r.change.user).or_default() += 1;
            m
        });
    assert_eq!(by_user.get("ufficio"), Some(&4));
}

#[test]
fn a_database_without_postgis_or_unreachable_is_named() {
    let cluster = Cluster::start();
    cluster.create_database("plain", false);
    let e = PgStore::open(&cluster.dsn("plain"), WORKING).err().unwrap();
    assert!(e.to_string().contains("no PostGIS extension"), "{e}");
    assert!(!e.is_transient());
    cluster.stop_immediately();
    let e = PgStore::open(&cluster.dsn("plain"), WORKING).err().unwrap();
    assert!(e.is_transient(), "a server that is down may come back: {e}");
    assert!(!e.to_string().contains("password"), "{e}");
}

#[test]
fn a_batch_changing_one_feature_several_times_is_stored_as_in_sqlite() {
    let cluster = Cluster::start();
    cluster.create_database("ptcp", true);
    let dsn = cluster.dsn("ptcp");
    let (catalog, fields, imported) = projects();
    let layer = catalog.layer("projects").unwrap();
    let fields_of = |l: &str| (l == "projects").then(|| fields.clone());
    let dir = tempfile::tempdir().unwrap();
    let mut lite = Store::open(dir.path()).unwrap();
    let mut pg = PgStore::open(&dsn, WORKING).unwrap();
    let at = "2026-12-01T09:00:00Z";
    lite.import("projects", "p", &fields, &layer.features, &imported, at)
        .unwrap();
    pg.import("projects", "p", &fields, &layer.features, &imported, at)
        .unwrap();
    // P004 changed twice, then P998 made and deleted, all in one batch.
    let p4 = layer.get(&FeatureId::Str("P004".into())).unwrap();
    let progress = layer.field_index("progress_pct").unwrap();
    let state = |v: i64| {
        let mut values = p4.values.to_vec();
        values[progress] = Value::Int(v);
        State {
            values,
            geometry: p4.geometry.clone(),
        }
    };
    let original = State {
        values: p4.values.to_vec(),
        geometry: p4.geometry.clone(),
    };
    let mut new_values = p4.values.to_vec();
    new_values[0] = Value::String("P998".into());
    let made = State {
        values: new_values,
        geometry: Geometry::Point(point!(x: 600_000.0, y: 5_000_000.0)),
    };
    let batch = vec![
        change("P004", Operation::Update, Some(original), Some(state(11))),
        change("P004", Operation::Update, Some(state(11)), Some(state(12))),
        change("P998", Operation::Create, None, Some(made.clone())),
        change("P998", Operation::Delete, Some(made), None),
    ];
    let before = pg.last_seq().unwrap();
    let seqs_lite = lite.commit(&fields, &batch).unwrap();
    let seqs_pg = pg
        .commit(&fields_of, before, &mut |_| Ok::<_, ()>(batch.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(
        seqs_pg,
        vec![before + 1, before + 2, before + 3, before + 4]
    );
    assert_eq!(seqs_lite, seqs_pg);
    let a = lite.features("projects", &fields).unwrap();
    let b = pg.features("projects", &fields).unwrap();
    assert_eq!(a.len(), b.len());
    for ((fa, ra), (fb, rb)) in a.iter().zip(&b) {
        assert_eq!(
            (&fa.id, &fa.values, &fa.geometry, ra),
            (&fb.id, &fb.values, &fb.geometry, rb),
            "the same features and revisions"
        );
    }
    let p4_now = b
        .iter()
        .find(|(f, _)| f.id == FeatureId::Str("P004".into()))
        .unwrap();
    assert_eq!(p4_now.0.values[progress], Value::Int(12));
    assert_eq!(p4_now.1, before + 2, "its revision is its last change");
    assert!(b.iter().all(|(f, _)| f.id != FeatureId::Str("P998".into())));
    assert_eq!(
        pg.changes_since(before, &fields_of)
            .unwrap()
            .into_iter()
            .map(|r| r.change)
            .collect::<Vec<_>>(),
        batch
    );
    assert_eq!(
        cluster.psql(
            "ptcp",
            "SELECT string_agg(feature || ':' || operation, ',' ORDER BY seq) \
             FROM territorio.changes WHERE username = 'ufficio'"
        ),
        "\"P004\":update,\"P004\":update,\"P998\":create,\"P998\":delete"
    );
    // More changes than one read takes at once (1,000): all of them, in order, once.
    let many: Vec<Change> = (0..2500)
        .map(|i| {
            change(
                "P004",
                Operation::Update,
                Some(state(12 + i % 80)),
                Some(state(12 + (i + 1) % 80)),
            )
        })
        .collect();
    let from = pg.last_seq().unwrap();
    let seqs = pg
        .commit(&fields_of, from, &mut |missed| {
            assert!(missed.is_empty());
            Ok::<_, ()>(many.clone())
        })
        .unwrap()
        .unwrap();
    assert_eq!(seqs, (from + 1..=from + 2500).collect::<Vec<_>>());
    let read = pg.changes_since(from, &fields_of).unwrap();
    assert_eq!(
        read.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (from + 1..=from + 2500).collect::<Vec<_>>()
    );
    assert_eq!(read.into_iter().map(|r| r.change).collect::<Vec<_>>(), many);
    // A second server catching up inside its commit gets them all too.
    let mut other = PgStore::open(&dsn, WORKING).unwrap();
    let mut seen = 0;
    other
        .commit(&fields_of, from, &mut |missed| {
            seen = missed.len();
            Err::<Vec<Change>, _>(())
        })
        .unwrap()
        .unwrap_err();
    assert_eq!(seen, 2500);
}
