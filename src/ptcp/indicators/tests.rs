//! The indicators on the hand-checkable province of `crate::store::testing`.

use geo::Geometry;

use super::*;
use crate::present::indicators::csv;
use crate::store::testing::province;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

const OPTIONS: IndicatorOptions = IndicatorOptions {
    catchment_m: 1_500.0,
    far_m: 900.0,
};

#[test]
fn indicators_by_hand() {
    let c = province();
    let set = indicators(&c, &OPTIONS).unwrap();
    // Axis 1: P1 (budget 100, progress 10, design) and P2 (300, 30, completed).
    let axis1 = set
        .progress
        .iter()
        .find(|g| g.group == "axis" && g.key == "1")
        .unwrap();
    assert_eq!(axis1.projects, 2);
    assert_eq!(axis1.by_status.get("design"), Some(&1));
    assert_eq!(axis1.by_status.get("completed"), Some(&1));
    assert!(close(axis1.budget_total_eur, 400.0) && close(axis1.budget_mean_eur.unwrap(), 200.0));
    assert!(close(axis1.progress_mean_pct.unwrap(), 20.0));
    // Principal municipalities: P1 is 4/7 in B, P2 in A, P3 6/11 in A.
    let by_m = |k: &str| {
        set.progress
            .iter()
            .find(|g| g.group == "municipality" && g.key == k)
            .map(|g| g.projects)
    };
    assert_eq!((by_m("A"), by_m("B")), (Some(2), Some(1)));
    // Productive: only P2 is inside (PA1, not supra): budget 300 of 1,000.
    let all = set.productive.iter().find(|p| p.axis == "all").unwrap();
    assert_eq!((all.inside, all.inside_supra, all.outside), (1, 0, 2));
    assert!(close(all.budget_share_inside.unwrap(), 0.3));
    assert!(close(all.budget_share_outside.unwrap(), 0.7));
    // VAS: the park takes 80,000 m² of P1 and 400 m of P3; two projects touch it.
    let park = set
        .environmental
        .iter()
        .find(|e| e.layer == "parks" && e.feature.is_none())
        .unwrap();
    assert!(close(park.area_m2, 80_000.0) && close(park.length_m, 400.0));
    assert_eq!(park.projects, 2);
    let pk = set
        .environmental
        .iter()
        .find(|e| e.feature.as_deref() == Some("PK"))
        .unwrap();
    assert_eq!(pk.projects, 2);
    // Land take: P1 on farmland is [700,1000]x[100,200] in A and [1000,1400]x[100,200] in B;
    // each municipality has 1,000 x 200 of farmland.
    let take = |k: &str| set.land_take.iter().find(|l| l.municipality == k).unwrap();
    assert!(close(take("A").area_m2, 30_000.0) && close(take("A").share.unwrap(), 0.15));
    assert!(close(take("B").area_m2, 40_000.0) && close(take("B").share.unwrap(), 0.2));
    assert!(close(take("B").agricultural_land_m2, 200_000.0));
    // Services from the centroids A (500,500) and B (1500,500).
    let sv = |k: &str| set.services.iter().find(|s| s.municipality == k).unwrap();
    assert!(close(
        sv("A").hospital_distance_m.unwrap(),
        (1000f64.powi(2) + 400f64.powi(2)).sqrt()
    ));
    assert!(close(sv("B").hospital_distance_m.unwrap(), 400.0));
    assert!(close(sv("A").nursing_home_distance_m.unwrap(), 0.0));
    assert!(close(sv("B").nursing_home_distance_m.unwrap(), 1_000.0));
    // Catchment 1,500 m: N1 serves A and B (4,000 residents, 40 beds: 0.01 each);
    // N2 (2500,500) serves B only (3,000 residents, 60 beds: 0.02).
    assert!(close(sv("A").nursing_beds_per_1000.unwrap(), 10.0));
    assert!(close(sv("B").nursing_beds_per_1000.unwrap(), 30.0));
    assert!(close(set.province.residents, 4_000.0));
    // Farther than 900 m: B from nursing homes (1,000 m), A from the hospital (1,077 m).
    assert_eq!(set.province.residents_far_from_nursing_home, Some(3_000.0));
    assert_eq!(set.province.residents_far_from_hospital, Some(1_000.0));
}

#[test]
fn every_indicator_is_defined_and_csv_rows_use_defined_ids() {
    let set = indicators(&province(), &OPTIONS).unwrap();
    let ids: Vec<&str> = set.definitions.iter().map(|d| d.id).collect();
    let text = csv(&set);
    let mut seen = std::collections::BTreeSet::new();
    for line in text.lines().skip(1) {
        let id = line.split(',').next().unwrap();
        assert!(ids.contains(&id), "{line}");
        assert_eq!(line.split(',').count(), 5, "{line}");
        seen.insert(id.to_string());
    }
    assert_eq!(seen.len(), ids.len(), "every indicator has rows");
    assert!(
        text.contains("land_take.area,municipality,B,40000,m2"),
        "{text}"
    );
}

#[test]
fn a_layer_total_counts_overlapping_features_once() {
    use crate::catalog::{RoleTable, System};
    use crate::feature::{FieldType, Value};
    use crate::store::testing::{catalog, named_layer};
    let square = |x0: f64, y0: f64, x1: f64, y1: f64| {
        Geometry::Polygon(geo::Rect::new((x0, y0), (x1, y1)).to_polygon())
    };
    // Two parks of one layer overlapping on [100,200]x[0,200].
    let parks = named_layer(
        "parks",
        System::Environmental,
        &[("name", FieldType::String)],
        vec![
            (
                "K1",
                square(0., 0., 200., 200.),
                vec![Value::String("Uno".into())],
            ),
            (
                "K2",
                square(100., 0., 300., 200.),
                vec![Value::String("Due".into())],
            ),
        ],
    );
    // Q = [50,250]x[50,150] (20,000 m²): [50,200]x[50,150] = 15,000 m² in K1,
    // [100,250]x[50,150] = 15,000 m² in K2, and its whole 20,000 m² in their union.
    // L = (0,100)-(400,100): 200 m in K1 (x 0..200), 200 m in K2 (x 100..300), and 300 m
    // in their union (x 0..300).
    let projects = named_layer(
        "projects",
        System::Projects,
        &[],
        vec![
            ("Q", square(50., 50., 250., 150.), vec![]),
            (
                "L",
                Geometry::LineString(geo::LineString::from(vec![(0., 100.), (400., 100.)])),
                vec![],
            ),
        ],
    );
    let c = catalog(vec![parks, projects], RoleTable::default());
    let set = indicators(&c, &OPTIONS).unwrap();
    let row = |feature: Option<&str>| {
        set.environmental
            .iter()
            .find(|e| e.layer == "parks" && e.feature.as_deref() == feature)
            .unwrap()
    };
    let layer = row(None);
    assert!(close(layer.area_m2, 20_000.0), "{layer:?}");
    assert!(close(layer.length_m, 300.0), "{layer:?}");
    assert_eq!(layer.projects, 2);
    for id in ["K1", "K2"] {
        let f = row(Some(id));
        assert!(
            close(f.area_m2, 15_000.0) && close(f.length_m, 200.0),
            "{f:?}"
        );
        assert_eq!(f.projects, 2);
    }
}

#[test]
fn services_need_no_projects_layer() {
    use crate::catalog::RoleTable;
    use crate::store::testing::{catalog, province_layers};
    let layers = province_layers()
        .into_iter()
        .filter(|l| l.id() != "projects")
        .collect();
    let c = catalog(layers, RoleTable::default());
    let set = indicators(&c, &OPTIONS).unwrap();
    assert!(set.progress.is_empty() && set.productive.is_empty());
    assert!(set.environmental.is_empty() && set.land_take.is_empty());
    assert!(set.skipped_projects.is_empty());
    // The same services as with the projects (see `indicators_by_hand`).
    let sv = |k: &str| set.services.iter().find(|s| s.municipality == k).unwrap();
    assert!(close(sv("B").hospital_distance_m.unwrap(), 400.0));
    assert!(close(sv("A").nursing_beds_per_1000.unwrap(), 10.0));
    assert!(close(sv("B").nursing_beds_per_1000.unwrap(), 30.0));
    assert_eq!(set.province.residents_far_from_nursing_home, Some(3_000.0));
    assert_eq!(set.province.residents_far_from_hospital, Some(1_000.0));
}

#[test]
fn bad_distances_are_refused() {
    let c = province();
    for (catchment_m, far_m) in [(-1.0, 1.0), (1.0, 200_001.0), (f64::INFINITY, 1.0)] {
        let e = indicators(&c, &IndicatorOptions { catchment_m, far_m }).unwrap_err();
        assert!(matches!(e, ReportError::BadDistance { .. }), "{e}");
    }
}

/// `c` with the features of layer `id` changed by `edit`.
fn edited(c: &Catalog, id: &str, edit: impl Fn(&mut Vec<crate::feature::Feature>)) -> Catalog {
    let layer = c.layer(id).unwrap();
    let mut features = layer.features.clone();
    edit(&mut features);
    let rebuilt = Layer::new(
        layer.config.clone(),
        layer.source_crs.clone(),
        layer.driver.clone(),
        layer.fields.clone(),
        features,
    )
    .unwrap();
    c.with_layer(rebuilt).unwrap()
}

#[test]
fn a_memo_reuses_the_sites_while_the_other_layers_stay_and_gives_the_fresh_answer() {
    use crate::feature::{FeatureId, Value};
    let c = province();
    let memo = Memo::default();
    assert_eq!(
        indicators_with(&c, &OPTIONS, &memo).unwrap(),
        indicators(&c, &OPTIONS).unwrap()
    );
    let kept = |memo: &Memo| {
        memo.state
            .lock()
            .unwrap()
            .as_ref()
            .map_or(0, |k| k.sites.values().map(Vec::len).sum::<usize>())
    };
    assert_eq!(kept(&memo), 3, "P1, P2 and P3");

    // P1's progress 10 -> 50: axis 1's mean is (50 + 30) / 2 = 40.
    let field = c
        .layer("projects")
        .unwrap()
        .field_index("progress_pct")
        .unwrap();
    let p1 = FeatureId::Str("P1".into());
    let progressed = edited(&c, "projects", |fs| {
        let f = fs.iter_mut().find(|f| f.id == p1).unwrap();
        f.values[field] = Value::Int(50);
    });
    let set = indicators_with(&progressed, &OPTIONS, &memo).unwrap();
    assert_eq!(set, indicators(&progressed, &OPTIONS).unwrap());
    let axis1 = set
        .progress
        .iter()
        .find(|g| g.group == "axis" && g.key == "1")
        .unwrap();
    assert!(close(axis1.progress_mean_pct.unwrap(), 40.0));

    // The kept facts are used: a wrong fact planted for P2's site shows in the answer (P2 is
    // the only project inside a productive area)...
    {
        let mut state = memo.state.lock().unwrap();
        for (site, facts) in state.as_mut().unwrap().sites.values_mut().flatten() {
            if matches!(site, Geometry::Point(_)) {
                facts.productive = Default::default();
            }
        }
    }
    let planted = indicators_with(&progressed, &OPTIONS, &memo).unwrap();
    let all = planted.productive.iter().find(|p| p.axis == "all").unwrap();
    assert_eq!(all.inside, 0, "the planted fact was read");
    // ... until another layer changes: the park gone, every site is computed again.
    let no_park = edited(&progressed, "parks", |fs| fs.clear());
    let set = indicators_with(&no_park, &OPTIONS, &memo).unwrap();
    assert_eq!(set, indicators(&no_park, &OPTIONS).unwrap());
    let all = set.productive.iter().find(|p| p.axis == "all").unwrap();
    assert_eq!(all.inside, 1, "P2 is inside PA1 again");
    assert!(set
        .environmental
        .iter()
        .all(|e| e.layer != "parks" || e.area_m2 == 0.0));

    // P1 moved off the farmland: its site is new, the others are reused, and the land take
    // of A and B is zero.
    let moved = edited(&no_park, "projects", |fs| {
        let f = fs.iter_mut().find(|f| f.id == p1).unwrap();
        f.geometry = Geometry::Point(geo::Point::new(100.0, 900.0));
    });
    let set = indicators_with(&moved, &OPTIONS, &memo).unwrap();
    assert_eq!(set, indicators(&moved, &OPTIONS).unwrap());
    assert!(set.land_take.iter().all(|l| l.area_m2 == 0.0));
    assert_eq!(
        kept(&memo),
        3,
        "only the sites of the last computation are kept"
    );
}
