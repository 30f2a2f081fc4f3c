//! Real data: the 113 municipalities of the Province of Cremona (ISTAT 2023 boundaries,
//! openpolis), read from `../shared/data`.

mod common;

use geo::{Area, Coord, Geometry, Point};
use territorio::analysis::{nearest, select, Predicate};
use territorio::catalog::CatalogConfig;
use territorio::crs::{Transformer, CRS84};
use territorio::feature::Value;
use territorio::store::{Catalog, LoadEvent};

fn load() -> Catalog {
    let dir = tempfile::tempdir().unwrap();
    let source = common::shared_data("cremona_comuni_istat2023_openpolis.geojson");
    assert!(source.exists(), "{} is missing", source.display());
    let text = format!(
        r#"working_crs = "EPSG:32632"
[[layer]]
id = "comuni"
title = "Comuni"
description = "ISTAT 2023 municipal boundaries (openpolis)"
system = "settlement"
source = "{}"
id_field = "com_istat_code"
"#,
        source.display()
    );
    let path = dir.path().join("catalog.toml");
    std::fs::write(&path, text).unwrap();
    let config = CatalogConfig::from_file(&path).unwrap();
    let events = std::sync::Mutex::new(Vec::new());
    let catalog = Catalog::load(config, &|e: LoadEvent| events.lock().unwrap().push(e)).unwrap();
    let events = events.into_inner().unwrap();
    assert!(
        matches!(
            &events[..],
            [
                LoadEvent::Started { .. },
                LoadEvent::Finished {
                    features: 113,
                    invalid: 0,
                    ..
                }
            ]
        ),
        "{events:?}"
    );
    catalog
}

#[test]
fn municipal_areas_sum_to_the_province_area() {
    let catalog = load();
    let comuni = catalog.layer("comuni").unwrap();
    assert_eq!(comuni.features.len(), 113);
    assert_eq!(comuni.invalid_features().count(), 0);
    let km2: f64 = comuni
        .features
        .iter()
        .map(|f| f.geometry.unsigned_area())
        .sum::<f64>()
        / 1e6;
    // 1,770.45 km² (the ISTAT surface of the province), within 0.5%.
    assert!((km2 - 1770.45).abs() / 1770.45 < 0.005, "{km2} km²");
}

#[test]
fn main_towns_fall_in_their_municipality() {
    let catalog = load();
    let comuni = catalog.layer("comuni").unwrap();
    let to_working = Transformer::new(CRS84, &catalog.working_crs).unwrap();
    let towns = common::MAIN_TOWNS;
    for (name, lon, lat) in towns {
        let p = Geometry::Point(Point(to_working.coord(Coord { x: lon, y: lat }).unwrap()));
        let found = select(comuni, &p, Predicate::Intersects).unwrap();
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        let f = &comuni.features[found[0] as usize];
        assert_eq!(
            comuni.value(f, "name"),
            Some(&Value::String((*name).into())),
            "{name}"
        );
        // The same answer through `contains` and as the nearest feature at distance 0.
        assert_eq!(
            select(comuni, &p, Predicate::Contains).unwrap(),
            found,
            "{name}"
        );
        let hit = nearest(comuni, &p, 1).unwrap()[0];
        assert_eq!((hit.feature, hit.distance_m), (found[0], 0.0), "{name}");
    }
}

#[test]
fn swapped_axes_would_land_outside_the_province() {
    // The classic bug, pinned: Cremona's (lat, lon) read as (lon, lat) is in the Arabian Sea,
    // far from every municipality.
    let catalog = load();
    let comuni = catalog.layer("comuni").unwrap();
    let to_working = Transformer::new(CRS84, &catalog.working_crs).unwrap();
    let right = Geometry::Point(Point(
        to_working
            .coord(Coord {
                x: 10.024,
                y: 45.133,
            })
            .unwrap(),
    ));
    let wrong = Geometry::Point(Point(
        to_working
            .coord(Coord {
                x: 45.133,
                y: 10.024,
            })
            .unwrap(),
    ));
    assert_eq!(
        select(comuni, &right, Predicate::Intersects).unwrap().len(),
        1
    );
    assert!(select(comuni, &wrong, Predicate::Intersects)
        .unwrap()
        .is_empty());
}
