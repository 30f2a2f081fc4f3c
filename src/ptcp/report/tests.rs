//! The site report on the hand-checkable province of `crate::store::testing`.

use geo::Geometry;

use super::*;
use crate::feature::FeatureId;
use crate::present::report::{heading, summary};
use crate::ptcp::{ReportError, Role, RoleLayers};
use crate::store::testing::province;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

#[test]
fn polygon_project_by_hand() {
    let c = province();
    let r = site_report(&c, "P1", &ReportOptions::default()).unwrap();
    // P1 = [700,1400]x[100,300]: 140,000 m²; 60,000 in A (3/7) and 80,000 in B (4/7).
    assert!(close(r.project.area_m2, 140_000.0));
    let m: Vec<(&str, f64, f64)> = r
        .municipalities
        .iter()
        .map(|m| (m.id.as_str(), m.share, m.area_m2))
        .collect();
    assert_eq!(m.len(), 2);
    assert!(m[0].0 == "A" && close(m[0].1, 3.0 / 7.0) && close(m[0].2, 60_000.0));
    assert!(m[1].0 == "B" && close(m[1].1, 4.0 / 7.0) && close(m[1].2, 80_000.0));
    // No productive area touched; PA1 is 300 m west, PA2 (supra) sqrt(200² + 300²) away.
    assert!(r.settlement.productive_areas.is_empty());
    let n = r.settlement.nearest_productive_area.as_ref().unwrap();
    assert!(n.id == "PA1" && close(n.distance_m, 300.0));
    let n = r.settlement.nearest_supra_municipal_area.as_ref().unwrap();
    assert!(n.id == "PA2" && close(n.distance_m, (200f64.powi(2) + 300f64.powi(2)).sqrt()));
    // The park [800,1200]x[0,1000] takes 400 x 200.
    let park = &r.environmental[0];
    assert_eq!(park.role, Role::Parks);
    assert_eq!(park.touched.len(), 1);
    assert!(close(park.touched[0].area_m2, 80_000.0));
    assert!(park.nearest.is_none());
    // Agricultural land [0,2000]x[0,200] takes 700 x 100, half the project.
    assert!(close(r.rural.agricultural_area_m2, 70_000.0));
    assert!(close(r.rural.agricultural_share.unwrap(), 0.5));
    // The agri-food site is 1,600 m below the project's bottom edge.
    assert_eq!(r.rural.agrifood_sites.len(), 1);
    assert!(close(r.rural.agrifood_sites[0].distance_m, 1_600.0));
    let dist = |list: &[Proximity], what: &str| {
        list.iter()
            .find(|p| p.what == what)
            .and_then(|p| p.nearest.as_ref().map(|n| n.distance_m))
    };
    // Junctions and port have no layer here.
    assert_eq!(dist(&r.infrastructure, "motorway_junction"), None);
    assert_eq!(dist(&r.infrastructure, "river_port"), None);
    // Station (0,2000): dx 700, dy 1700. State road y = 1500 (the motorway at y = -300 is
    // nearer but is not a state road).
    assert!(close(
        dist(&r.infrastructure, "railway_station").unwrap(),
        (700f64.powi(2) + 1700f64.powi(2)).sqrt()
    ));
    assert!(close(
        dist(&r.infrastructure, "state_road").unwrap(),
        1_200.0
    ));
    assert!(close(dist(&r.services, "hospital").unwrap(), 100.0));
    assert!(close(
        dist(&r.services, "nursing_home").unwrap(),
        200.0 * 2f64.sqrt()
    ));

    let lines = summary(&r);
    let text = |system: &str| {
        lines
            .iter()
            .find(|l| l.system == system)
            .unwrap()
            .text
            .clone()
    };
    assert!(
        text("settlement").contains("Alfa (42.9%), Beta (57.1%)"),
        "{lines:?}"
    );
    assert!(
        text("settlement").contains("nearest 'Uno' at 300 m"),
        "{lines:?}"
    );
    assert!(
        text("environmental").contains("crosses park Parco for 80,000 m²"),
        "{lines:?}"
    );
    assert!(
        text("rural")
            .contains("takes 70,000 m² of strategic agricultural land (50.0% of the project)"),
        "{lines:?}"
    );
}

#[test]
fn point_and_line_projects_by_hand() {
    let c = province();
    let r = site_report(&c, "P2", &ReportOptions::default()).unwrap();
    // (200,250) lies inside PA1, wholly in A, 600 m west of the park.
    assert_eq!(r.municipalities.len(), 1);
    assert!(close(r.municipalities[0].share, 1.0));
    assert_eq!(r.settlement.productive_areas.len(), 1);
    let pa = &r.settlement.productive_areas[0];
    assert!(pa.contains_project && !pa.sovracomunale);
    assert_eq!(
        (pa.kind.as_deref(), pa.status.as_deref()),
        (Some("industrial"), Some("existing"))
    );
    assert!(close(
        r.settlement
            .nearest_productive_area
            .as_ref()
            .unwrap()
            .distance_m,
        0.0
    ));
    assert!(close(
        r.environmental[0].nearest.as_ref().unwrap().distance_m,
        600.0
    ));
    assert!(summary(&r)[0]
        .text
        .contains("inside the productive area 'Uno' (industrial, existing)"));

    // P3: (400,500)-(1500,500), 1,100 m: 600 in A, 500 in B, 400 in the park.
    let r = site_report(&c, "P3", &ReportOptions::default()).unwrap();
    assert!(close(r.project.length_m, 1_100.0));
    assert!(close(r.municipalities[0].share, 6.0 / 11.0));
    assert!(close(r.municipalities[1].length_m, 500.0));
    assert!(close(r.environmental[0].touched[0].length_m, 400.0));
}

#[test]
fn any_site_gets_the_report_a_project_there_gets() {
    let c = province();
    let p1 = Geometry::Polygon(geo::Rect::new((700., 100.), (1400., 300.)).to_polygon());
    let by_project = site_report(&c, "P1", &ReportOptions::default()).unwrap();
    let by_site = site_report_for_geometry(&c, &p1, &ReportOptions::default()).unwrap();
    assert_eq!(
        (&by_site.project.layer, &by_site.project.id),
        (&None, &None)
    );
    assert!(close(by_site.project.area_m2, 140_000.0));
    assert_eq!(by_site.municipalities, by_project.municipalities);
    assert_eq!(by_site.settlement, by_project.settlement);
    assert_eq!(by_site.environmental, by_project.environmental);
    assert_eq!(by_site.rural, by_project.rural);
    assert_eq!(by_site.infrastructure, by_project.infrastructure);
    assert_eq!(heading(&by_site), "site (Polygon, 140,000 m²)");
    assert!(summary(&by_site)[2].text.contains("(50.0% of the site)"));

    // A site drawn inside PA1 = [100,400]²: [150,350]x[150,250], 20,000 m², all in A.
    let drawn = Geometry::Polygon(geo::Rect::new((150., 150.), (350., 250.)).to_polygon());
    let r = site_report_for_geometry(&c, &drawn, &ReportOptions::default()).unwrap();
    assert_eq!(r.municipalities.len(), 1);
    assert!(r.municipalities[0].id == "A" && close(r.municipalities[0].share, 1.0));
    let pa = &r.settlement.productive_areas;
    assert!(pa.len() == 1 && pa[0].id == "PA1" && pa[0].contains_project);
    assert!(close(pa[0].area_m2, 20_000.0));
    // The park starts at x = 800: 450 m east of the site's right edge.
    assert!(close(
        r.environmental[0].nearest.as_ref().unwrap().distance_m,
        450.0
    ));

    // A geometry collection is not a site.
    let collection = Geometry::GeometryCollection(geo::GeometryCollection(vec![drawn]));
    assert!(matches!(
        site_report_for_geometry(&c, &collection, &ReportOptions::default()),
        Err(ReportError::Analysis(_))
    ));
}

#[test]
fn related_features_list_each_feature_once_with_its_relation() {
    let c = province();
    let roles = RoleLayers::new(&c).unwrap();
    let r = site_report(&c, "P1", &ReportOptions::default()).unwrap();
    let related: Vec<(&str, String, Relation, Option<f64>)> = related_features(&roles, &r)
        .iter()
        .map(|x| {
            (
                x.layer.id(),
                x.layer.features[x.feature as usize].id.to_string(),
                x.relation,
                x.distance_m,
            )
        })
        .collect();
    let find = |layer: &str, id: &str| {
        related
            .iter()
            .filter(|r| r.0 == layer && r.1 == id)
            .collect::<Vec<_>>()
    };
    assert_eq!(related[0].2, Relation::Project);
    assert_eq!(find("projects", "P1").len(), 1);
    for (layer, id) in [
        ("municipalities", "A"),
        ("municipalities", "B"),
        ("parks", "PK"),
        ("agricultural_areas", "AG"),
    ] {
        let hits = find(layer, id);
        assert_eq!(hits.len(), 1, "{layer} {id}");
        assert_eq!(hits[0].2, Relation::Intersects);
    }
    // PA1 is the nearest productive area (300 m), PA2 the nearest supra-municipal one.
    let pa1 = find("productive_areas", "PA1");
    assert!(pa1[0].2 == Relation::Nearest && close(pa1[0].3.unwrap(), 300.0));
    assert_eq!(find("productive_areas", "PA2")[0].2, Relation::Nearest);
    assert!(close(find("hospitals", "H")[0].3.unwrap(), 100.0));
    let af = find("agrifood_sites", "AF");
    assert!(af[0].2 == Relation::Within && close(af[0].3.unwrap(), 1_600.0));
    // The state road SS1 is the nearest state road; the motorway A1 is not mentioned.
    assert_eq!(find("roads", "SS1").len(), 1);
    assert!(find("roads", "A1").is_empty());
}

#[test]
fn bad_input_is_a_typed_error() {
    let c = province();
    assert_eq!(
        site_report(&c, "P9", &ReportOptions::default()).unwrap_err(),
        ReportError::UnknownProject {
            layer: "projects".into(),
            id: "P9".into()
        }
    );
    for radius in [-1.0, 200_001.0, f64::NAN] {
        let e = site_report(
            &c,
            "P1",
            &ReportOptions {
                agrifood_radius_m: radius,
            },
        )
        .unwrap_err();
        assert!(matches!(e, ReportError::BadDistance { .. }), "{e}");
    }
    // A field named explicitly in [roles] must exist.
    let mut roles = c.config.roles.clone();
    roles.set("residents_field", "abitanti");
    let layers = province()
        .layers()
        .iter()
        .map(|l| {
            crate::store::testing::named_layer(
                l.id(),
                l.config.system,
                &l.fields
                    .iter()
                    .map(|f| (f.name.as_str(), f.ty))
                    .collect::<Vec<_>>(),
                l.features
                    .iter()
                    .map(|f| {
                        (
                            match &f.id {
                                FeatureId::Str(s) => &**s,
                                _ => "",
                            },
                            f.geometry.clone(),
                            f.values.to_vec(),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    let c2 = crate::store::testing::catalog(layers, roles);
    assert_eq!(
        site_report(&c2, "P1", &ReportOptions::default()).unwrap_err(),
        ReportError::UnknownField {
            role: "municipalities".into(),
            layer: "municipalities".into(),
            field: "abitanti".into()
        }
    );
}
