//! The site report and the indicators on the demo catalogue, against brute force over every
//! feature (geo algorithms directly, no index), and the services indicator on real data.

mod common;

use std::collections::HashMap;

use geo::{
    Area, BooleanOps, Centroid, Distance, Euclidean, Geometry, Length, MultiLineString,
    MultiPolygon, Translate,
};
use territorio::catalog::CatalogConfig;
use territorio::feature::Value;
use territorio::ptcp::{indicators, site_report, IndicatorOptions, ReportOptions};
use territorio::store::{Catalog, Layer};

/// What the gaps between the report's areas and [`boolean_overlap`] come to on the demo: up to
/// 1.4e-7 of the area on sizeable overlaps (0.01 m² on the 7 ha of P070 in the park) and
/// 0.0003 m² on small ones (661 m², P009 in a corridor), at most a quarter of the derived bound
/// because the roundings have both signs. Checked on top of the derived bound so that a
/// regression in either shows.
const AREA_TOLERANCE: f64 = 2e-7;

fn demo() -> Catalog {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/catalog.toml");
    Catalog::load(CatalogConfig::from_file(&path).unwrap(), &|_| {}).unwrap()
}

/// The smallest distance from `g` to a feature of `layer` that `keep` accepts, by a full scan.
fn brute_nearest(layer: &Layer, g: &Geometry<f64>, keep: impl Fn(usize) -> bool) -> Option<f64> {
    layer
        .features
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, f)| Euclidean.distance(g, &f.geometry))
        .min_by(f64::total_cmp)
}

/// Area of `a ∩ b` by boolean intersection, with coordinates taken relative to `a`'s first
/// vertex.
fn intersection_area(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> f64 {
    let o = a.0[0].exterior().0[0];
    a.translate(-o.x, -o.y)
        .intersection(&b.translate(-o.x, -o.y))
        .unsigned_area()
}

/// The total overlap of `site` with the polygons of `layer` by boolean intersection, and how far
/// an exact computation may be from it. geo's boolean operation rounds every vertex and
/// crossing point to i_overlay's integer grid, of step g = 2^(round(log2 H) - 29) for H half the
/// larger side of the two operands' common box; that moves an intersection's area by at most
/// √2 · g · P for a perimeter P (derivation and tests in src/analysis/clip.rs). The report's
/// convex clip has no grid. With belts and parks tens of km across (g = 2^-15 or 2^-14 m) the
/// bound is a few 1e-6 of a project's area, more on small overlaps.
fn boolean_overlap(site: &MultiPolygon<f64>, layer: &Layer) -> (f64, f64) {
    use geo::{BoundingRect, Length};
    let (mut area, mut bound) = (0.0, 0.0);
    for f in &layer.features {
        let feature = polygons(&f.geometry).unwrap();
        let inter = site.intersection(&feature);
        area += inter.unsigned_area();
        let (a, b) = (
            site.bounding_rect().unwrap(),
            feature.bounding_rect().unwrap(),
        );
        let w = a.max().x.max(b.max().x) - a.min().x.min(b.min().x);
        let h = a.max().y.max(b.max().y) - a.min().y.min(b.min().y);
        let g = 2f64.powi((w.max(h) / 2.0).log2().round() as i32 - 29);
        let perimeter: f64 = inter
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .map(|r| Euclidean.length(r))
            .sum();
        bound += 2f64.sqrt() * g * perimeter;
    }
    (area, bound)
}

fn polygons(g: &Geometry<f64>) -> Option<MultiPolygon<f64>> {
    match g {
        Geometry::Polygon(p) => Some(MultiPolygon(vec![p.clone()])),
        Geometry::MultiPolygon(m) => Some(m.clone()),
        _ => None,
    }
}

fn value<'a>(layer: &'a Layer, i: usize, field: &str) -> &'a Value {
    &layer.features[i].values[layer.field_index(field).unwrap()]
}

#[test]
fn every_demo_report_agrees_with_brute_force() {
    let c = demo();
    let projects = c.layer("projects").unwrap();
    let municipalities = c.layer("municipalities").unwrap();
    let productive = c.layer("productive_areas").unwrap();
    let roads = c.layer("roads").unwrap();
    let agri = c.layer("agricultural_areas").unwrap();
    let close = |a: f64, b: f64, what: &str, id: &str| {
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{id} {what}: {a} vs {b}"
        );
    };
    for p in &projects.features {
        let id = p.id.to_string();
        let r = site_report(&c, &id, &ReportOptions::default()).unwrap();
        let g = &p.geometry;
        let near = |layer: &str, keep: &dyn Fn(usize) -> bool| {
            brute_nearest(c.layer(layer).unwrap(), g, keep)
        };
        let got = |list: &[territorio::ptcp::report::Proximity], what: &str| {
            list.iter()
                .find(|x| x.what == what)
                .unwrap()
                .nearest
                .as_ref()
                .map(|n| n.distance_m)
        };
        close(
            got(&r.infrastructure, "motorway_junction").unwrap(),
            near("motorway_junctions", &|_| true).unwrap(),
            "junction",
            &id,
        );
        close(
            got(&r.infrastructure, "railway_station").unwrap(),
            near("stations", &|_| true).unwrap(),
            "station",
            &id,
        );
        close(
            got(&r.infrastructure, "river_port").unwrap(),
            near("river_port", &|_| true).unwrap(),
            "port",
            &id,
        );
        let state = |i: usize| value(roads, i, "class") == &Value::String("state".into());
        close(
            got(&r.infrastructure, "state_road").unwrap(),
            near("roads", &state).unwrap(),
            "state road",
            &id,
        );
        close(
            got(&r.services, "hospital").unwrap(),
            near("hospitals", &|_| true).unwrap(),
            "hospital",
            &id,
        );
        close(
            got(&r.services, "nursing_home").unwrap(),
            near("nursing_homes", &|_| true).unwrap(),
            "nursing home",
            &id,
        );
        let supra = |i: usize| value(productive, i, "sovracomunale") == &Value::Bool(true);
        close(
            r.settlement
                .nearest_productive_area
                .as_ref()
                .unwrap()
                .distance_m,
            near("productive_areas", &|_| true).unwrap(),
            "productive",
            &id,
        );
        close(
            r.settlement
                .nearest_supra_municipal_area
                .as_ref()
                .unwrap()
                .distance_m,
            near("productive_areas", &supra).unwrap(),
            "supra",
            &id,
        );
        // Productive areas touched: those at distance 0 (by scan).
        let touching = productive
            .features
            .iter()
            .filter(|f| Euclidean.distance(g, &f.geometry) == 0.0)
            .count();
        assert!(r.settlement.productive_areas.len() <= touching, "{id}");
        if let Some(site) = polygons(g) {
            // Municipal shares and agricultural land by boolean intersection with every feature.
            let area = site.unsigned_area();
            for m in &r.municipalities {
                let f = municipalities
                    .features
                    .iter()
                    .find(|f| f.id.to_string() == m.id)
                    .unwrap();
                let want = intersection_area(&site, &polygons(&f.geometry).unwrap());
                close(m.area_m2, want, "municipal area", &id);
                close(m.share, want / area, "municipal share", &id);
            }
            let total: f64 = r.municipalities.iter().map(|m| m.share).sum();
            close(total, 1.0, "shares add up", &id);
            // Areas summed over features: f64 sums of a few terms, exact to far below 1e-9.
            let (want, bound) = boolean_overlap(&site, agri);
            let gap = (r.rural.agricultural_area_m2 - want).abs();
            assert!(
                gap <= bound + 1e-9 * want && gap <= 1e-3 + AREA_TOLERANCE * want,
                "{id}: {} vs {want} (bound {bound})",
                r.rural.agricultural_area_m2
            );
            // Every constraint layer: the overlap areas by boolean intersection.
            for layer in &r.environmental {
                let l = c.layer(&layer.layer).unwrap();
                let (want, bound) = boolean_overlap(&site, l);
                let got: f64 = layer.touched.iter().map(|t| t.area_m2).sum();
                let gap = (got - want).abs();
                assert!(
                    gap <= bound + 1e-9 * want && gap <= 1e-3 + AREA_TOLERANCE * want,
                    "{id} {}: {got} vs {want} (bound {bound})",
                    layer.layer
                );
                if layer.touched.is_empty() {
                    close(
                        layer.nearest.as_ref().unwrap().distance_m,
                        brute_nearest(l, g, |_| true).unwrap(),
                        "constraint",
                        &id,
                    );
                }
            }
        }
        // Agri-food sites within 2 km: the same count as a scan.
        let sites = c.layer("agrifood_sites").unwrap();
        let want = sites
            .features
            .iter()
            .filter(|f| Euclidean.distance(g, &f.geometry) <= 2_000.0)
            .count();
        assert_eq!(r.rural.agrifood_sites.len(), want, "{id}");
        assert_eq!(territorio::present::report::summary(&r).len(), 5);
    }
}

#[test]
fn demo_indicators_agree_with_brute_force() {
    let c = demo();
    let set = indicators(&c, &IndicatorOptions::default()).unwrap();
    let projects = c.layer("projects").unwrap();
    let productive = c.layer("productive_areas").unwrap();
    // Project counts and budgets per axis, from the attributes.
    let mut by_axis: HashMap<String, (usize, f64)> = HashMap::new();
    for i in 0..projects.features.len() {
        let e = by_axis
            .entry(value(projects, i, "axis").to_string())
            .or_default();
        e.0 += 1;
        if let Value::Real(b) = value(projects, i, "budget_eur") {
            e.1 += b;
        }
    }
    for g in set.progress.iter().filter(|g| g.group == "axis") {
        let (n, b) = by_axis[&g.key];
        assert_eq!(g.projects, n, "axis {}", g.key);
        assert!((g.budget_total_eur - b).abs() < 1e-6, "axis {}", g.key);
    }
    // Inside productive areas: projects at distance 0 from any productive area, by scan.
    let inside = projects
        .features
        .iter()
        .filter(|p| {
            productive
                .features
                .iter()
                .any(|a| Euclidean.distance(&p.geometry, &a.geometry) == 0.0)
        })
        .count();
    let all = set.productive.iter().find(|p| p.axis == "all").unwrap();
    assert_eq!(all.inside, inside);
    assert_eq!(all.inside + all.outside, projects.features.len());
    // Municipalities: residents add up; distances from centroids by scan.
    let municipalities = c.layer("municipalities").unwrap();
    let residents: f64 = (0..municipalities.features.len())
        .map(|i| match value(municipalities, i, "population") {
            Value::Int(n) => *n as f64,
            _ => 0.0,
        })
        .sum();
    assert_eq!(set.province.residents, residents);
    let homes = c.layer("nursing_homes").unwrap();
    let mut far = 0.0;
    for (i, m) in municipalities.features.iter().enumerate() {
        let centre = Geometry::Point(m.geometry.centroid().unwrap());
        let s = &set.services[i];
        let d = brute_nearest(homes, &centre, |_| true).unwrap();
        assert!((s.nursing_home_distance_m.unwrap() - d).abs() < 1e-6);
        let h = brute_nearest(c.layer("hospitals").unwrap(), &centre, |_| true).unwrap();
        assert!((s.hospital_distance_m.unwrap() - h).abs() < 1e-6);
        if d > 10_000.0 {
            far += s.residents.unwrap();
        }
    }
    assert_eq!(set.province.residents_far_from_nursing_home, Some(far));
    // Cumulative effects: per constraint layer, the projects inside the union of the layer's
    // features (united once, whole, by boolean operations), where overlapping features count
    // once.
    for layer_id in [
        "parks",
        "natura2000",
        "fluvial_belts",
        "ecological_corridors",
    ] {
        let layer = c.layer(layer_id).unwrap();
        let origin = layer.extent().unwrap().min();
        let local = |m: MultiPolygon<f64>| m.translate(-origin.x, -origin.y);
        let united = layer
            .features
            .iter()
            .map(|f| local(polygons(&f.geometry).unwrap()))
            .reduce(|all, f| all.union(&f))
            .unwrap();
        let (mut area, mut length) = (0.0, 0.0);
        for p in &projects.features {
            match &p.geometry {
                Geometry::LineString(l) => {
                    let l = MultiLineString(vec![l.translate(-origin.x, -origin.y)]);
                    length += Euclidean.length(&united.clip(&l, false));
                }
                g => {
                    if let Some(site) = polygons(g) {
                        area += local(site).intersection(&united).unsigned_area();
                    }
                }
            }
        }
        let row = set
            .environmental
            .iter()
            .find(|e| e.layer == layer_id && e.feature.is_none())
            .unwrap();
        assert!(
            (row.area_m2 - area).abs() <= 1e-2 + AREA_TOLERANCE * area,
            "{layer_id}: {} vs {area}",
            row.area_m2
        );
        assert!(
            (row.length_m - length).abs() <= 1e-3 + 1e-9 * length,
            "{layer_id}: {} vs {length}",
            row.length_m
        );
    }
}

/// The 113 real municipalities with their ANPR residents, and the 7 hospitals.
#[test]
fn services_on_real_municipalities_and_hospitals() {
    let comuni = common::shared_data("cremona_comuni_istat2023_openpolis.geojson");
    let residents = common::shared_data("cremona_popolazione_residente_anpr_2025_01.csv");
    let hospitals = common::shared_data("cremona_ospedali_eurostat_healthcare.geojson");
    for f in [&comuni, &residents, &hospitals] {
        assert!(f.exists(), "{} is missing", f.display());
    }
    // Join on com_istat_code = COD_ISTAT_COMUNE into a new GeoJSON.
    let csv = std::fs::read_to_string(&residents).unwrap();
    let mut header = csv.lines().next().unwrap().split(',');
    let code_col = header
        .clone()
        .position(|h| h == "COD_ISTAT_COMUNE")
        .unwrap();
    let res_col = header.position(|h| h == "RESIDENTI").unwrap();
    let by_code: HashMap<String, i64> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            (
                cols[code_col].to_string(),
                cols[res_col].trim().parse().unwrap(),
            )
        })
        .collect();
    let mut gj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&comuni).unwrap()).unwrap();
    for f in gj["features"].as_array_mut().unwrap() {
        let code = f["properties"]["com_istat_code"]
            .as_str()
            .unwrap()
            .to_string();
        f["properties"]["residents"] = serde_json::json!(by_code[&code]);
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("comuni.geojson"), gj.to_string()).unwrap();
    let text = format!(
        r#"working_crs = "EPSG:32632"
[roles]
municipalities = "comuni"
residents_field = "residents"
name_field = "name"
hospitals = "ospedali"

[[layer]]
id = "comuni"
title = "Comuni"
description = "ISTAT 2023 boundaries with ANPR residents"
system = "settlement"
source = "comuni.geojson"
id_field = "com_istat_code"

[[layer]]
id = "ospedali"
title = "Ospedali"
description = "Eurostat healthcare facilities"
system = "settlement"
source = "{}"
"#,
        hospitals.display()
    );
    let path = dir.path().join("catalog.toml");
    std::fs::write(&path, text).unwrap();
    let c = Catalog::load(CatalogConfig::from_file(&path).unwrap(), &|_| {}).unwrap();
    // No projects layer: the services need none, and the project families are empty.
    let set = indicators(&c, &IndicatorOptions::default()).unwrap();
    assert!(set.progress.is_empty() && set.environmental.is_empty());
    assert_eq!(set.services.len(), 113);
    assert_eq!(set.province.residents, 355_974.0);
    let comuni = c.layer("comuni").unwrap();
    let ospedali = c.layer("ospedali").unwrap();
    assert_eq!(ospedali.features.len(), 7);
    let mut far = 0.0;
    for (m, s) in comuni.features.iter().zip(&set.services) {
        assert_eq!(s.municipality, m.id.to_string());
        let centre = Geometry::Point(m.geometry.centroid().unwrap());
        let want = brute_nearest(ospedali, &centre, |_| true).unwrap();
        let got = s.hospital_distance_m.unwrap();
        assert!(
            got.is_finite() && (got - want).abs() < 1e-6,
            "{}: {got} vs {want}",
            s.name
        );
        if want > 10_000.0 {
            far += s.residents.unwrap();
        }
        assert_eq!(s.nursing_home_distance_m, None);
    }
    assert_eq!(set.province.residents_far_from_hospital, Some(far));
    assert_eq!(set.province.residents_far_from_nursing_home, None);
}
