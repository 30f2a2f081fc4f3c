//! Tests of the roles table and its binding.

use super::*;
use crate::store::testing::province;

#[test]
fn the_table_is_in_enum_order_and_every_field_has_one_role() {
    for (i, spec) in ROLES.iter().enumerate() {
        assert_eq!(spec.role as usize, i, "{}", spec.name);
        assert!(!spec.used_by.is_empty(), "{}", spec.name);
    }
    let mut owners = [0; Field::COUNT];
    for spec in &ROLES {
        for &f in spec.fields {
            owners[f as usize] += 1;
        }
    }
    assert_eq!(owners, [1; Field::COUNT]);
}

/// A catalogue of layers `ids` (sources are not read) with `[roles]` from `roles`.
fn config(ids: &[&str], roles: &str) -> CatalogConfig {
    let mut text = format!("[roles]\n{roles}\n");
    for id in ids {
        text.push_str(&format!(
            "[[layer]]\nid = \"{id}\"\ntitle = \"t\"\ndescription = \"d\"\n\
             system = \"settlement\"\nsource = \"{id}.gpkg\"\n"
        ));
    }
    let path = std::path::Path::new("catalog.toml");
    let file = crate::catalog::CatalogFile::parse(&text, path).unwrap();
    CatalogConfig {
        path: path.into(),
        working_crs: file.working_crs,
        styles_dir: "styles".into(),
        layers: file.layers,
        roles: file.roles,
    }
}

#[test]
fn bindings_say_how_each_role_is_bound() {
    let mut roles = RoleTable::default();
    assert!(set_layer(&mut roles, "parks", "parchi"));
    assert!(set_layer(&mut roles, "hospitals", ""));
    assert!(!set_layer(&mut roles, "castles", "x"));
    let ids = ["parchi", "roads", "agricultural_areas"];
    let exists = |id: &str| ids.contains(&id);
    let all = bindings(&roles, exists);
    assert_eq!(all.len(), 16);
    let of = |role: Role| all.iter().find(|b| b.role == role).unwrap().clone();
    assert_eq!(of(Role::Parks).how, Bound::Named);
    assert_eq!(of(Role::Parks).layer.as_deref(), Some("parchi"));
    assert_eq!(of(Role::Roads).how, Bound::Default);
    assert_eq!(of(Role::AgriculturalLand).how, Bound::Default);
    assert_eq!(
        of(Role::AgriculturalLand).layer.as_deref(),
        Some("agricultural_areas")
    );
    assert_eq!(of(Role::Hospitals).how, Bound::Disabled);
    assert_eq!(of(Role::Hospitals).layer, None);
    assert_eq!(of(Role::Stations).how, Bound::Unbound);

    let mut fields = RoleTable::default();
    assert!(set_field(&mut fields, "beds", "posti_letto"));
    assert!(!set_field(&mut fields, "colour", "x"));
    assert_eq!(fields.get("beds_field"), Some("posti_letto"));
    assert_eq!(
        Field::NursingBeds.spec().name_in(&fields),
        ("posti_letto", true)
    );
    assert_eq!(
        Field::Residents.spec().name_in(&fields),
        ("population", false)
    );
    assert_eq!(state_road_class(&fields), ("state", false));
}

#[test]
fn settings_are_the_roles_then_the_fields_once_each() {
    let all = settings();
    // 16 layer roles, name_field, 16 field settings (17 fields, the two `beds` share one),
    // state_road_class and completed_status.
    assert_eq!(all.len(), 16 + 16 + 1 + 2);
    assert_eq!(all[0], "projects");
    assert_eq!(all[15], "nursing_homes");
    assert_eq!(all[16], "name_field");
    assert_eq!(all[17], "residents_field");
    assert_eq!(all[18], "beds_field");
    let road = all.iter().position(|s| s == "road_class_field").unwrap();
    assert_eq!(all[road + 1], "state_road_class");
    let status = all
        .iter()
        .position(|s| s == "project_status_field")
        .unwrap();
    assert_eq!(all[status + 1], "completed_status");
    assert_eq!(all.last().map(String::as_str), Some("project_end_field"));
}

#[test]
fn roles_default_to_demo_ids_and_named_layers_must_exist() {
    let c = config(&["roads"], "");
    check(&c).unwrap();
    assert_eq!(Role::Roads.spec().layer_in(&c), Some("roads"));
    assert_eq!(Role::Parks.spec().layer_in(&c), None);
    assert_eq!(
        Field::Residents.spec().name_in(&c.roles),
        ("population", false)
    );
    // Left out, every role takes its default layer when the catalogue has it.
    let defaults: Vec<&str> = ROLES.iter().map(|r| r.default_layer).collect();
    let c = config(&defaults, "");
    for spec in &ROLES {
        assert_eq!(spec.layer_in(&c), Some(spec.default_layer), "{}", spec.name);
    }

    let c = config(
        &["roads"],
        "roads = \"\"\nhospitals = \"roads\"\nresidents_field = \"pop\"",
    );
    check(&c).unwrap();
    assert_eq!(Role::Roads.spec().layer_in(&c), None);
    assert_eq!(Role::Hospitals.spec().layer_in(&c), Some("roads"));
    assert_eq!(Field::Residents.spec().name_in(&c.roles), ("pop", true));

    let c = config(&["roads"], "parks = \"parchi\"");
    let e = check(&c).unwrap_err();
    assert!(
        matches!(&e, RoleError::UnknownLayer { role, layer, .. } if role == "parks" && layer == "parchi"),
        "{e}"
    );
}

#[test]
fn an_unknown_setting_is_named_with_the_known_ones() {
    let c = config(&["roads"], "roads = \"roads\"\nparchi = \"roads\"");
    let e = check(&c).unwrap_err();
    assert!(
        matches!(&e, RoleError::UnknownSetting { key, .. } if key == "parchi"),
        "{e}"
    );
    let e = e.to_string();
    assert!(e.contains("catalog.toml"), "{e}");
    assert!(e.contains("[roles] has no setting \"parchi\""), "{e}");
    assert!(e.contains("parks, natura2000"), "{e}");
    assert!(e.contains("state_road_class"), "{e}");
    // A value must be text.
    let path = std::path::Path::new("catalog.toml");
    let e = crate::catalog::CatalogFile::parse("[roles]\nparks = 3\n", path).unwrap_err();
    assert!(e.to_string().contains("string"), "{e}");
}

#[test]
fn binding_refuses_what_check_refuses() {
    use crate::store::testing::{catalog, province_layers};
    let mut roles = crate::catalog::RoleTable::default();
    roles.set("parchi", "parks");
    let c = catalog(province_layers(), roles);
    match RoleLayers::new(&c) {
        Err(ReportError::Roles(RoleError::UnknownSetting { key, .. })) => {
            assert_eq!(key, "parchi")
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("an unknown [roles] setting was bound"),
    }
}

#[test]
fn binding_the_hand_checked_province() {
    let c = province();
    let roles = RoleLayers::new(&c).unwrap();
    let p = roles.require(Role::Projects).unwrap();
    assert_eq!(p.layer.id(), "projects");
    assert_eq!(p.number(Field::ProjectBudget, 0), Some(100.0));
    assert_eq!(p.key(Field::ProjectAxis, 2), "2");
    // The province has no emblematic action field and no junctions.
    assert!(!p.has(Field::ProjectAction));
    assert_eq!(p.text(Field::ProjectAction, 0), None);
    assert!(roles.get(Role::MotorwayJunctions).is_none());
    assert_eq!(
        roles.require(Role::MotorwayJunctions).unwrap_err(),
        ReportError::MissingRole {
            role: "motorway_junctions".into()
        }
    );
    // PA2 is supra-municipal, SS1 a state road, A1 a motorway.
    assert!(!roles.is_supra(0) && roles.is_supra(1));
    assert!(roles.is_state_road(0) && !roles.is_state_road(1));
    let constraints: Vec<&str> = roles.constraints().iter().map(|c| c.layer.id()).collect();
    assert_eq!(constraints, vec!["parks"]);
    assert_eq!(roles.get(Role::Municipalities).unwrap().name(1), "Beta");
}

#[test]
fn role_fields_bind_a_schema_outside_a_layer() {
    use crate::feature::{Feature, FeatureId, FieldType};
    let schema: Vec<crate::feature::Field> = [
        ("titolo", FieldType::String),
        ("spent_eur", FieldType::Real),
    ]
    .into_iter()
    .map(|(name, ty)| crate::feature::Field {
        name: name.into(),
        ty,
    })
    .collect();
    let mut roles = RoleTable::default();
    roles.set("name_field", "titolo");
    roles.set("project_title_field", "titolo");
    let f = RoleFields::bind(Role::Projects, &roles, "progetti", &schema).unwrap();
    let p = Feature {
        id: FeatureId::Str("P9".into()),
        geometry: geo::Geometry::Point(geo::Point::new(0., 0.)),
        values: vec![Value::String("Nove".into()), Value::Real(12.5)].into(),
        invalid: None,
    };
    // Named in [roles], or found under the default name; absent otherwise.
    assert_eq!(f.text(Field::ProjectTitle, &p).as_deref(), Some("Nove"));
    assert_eq!(f.number(Field::ProjectSpent, &p), Some(12.5));
    assert!(!f.has(Field::ProjectCommitted));
    assert_eq!(f.key(Field::ProjectCommitted, &p), "");
    assert_eq!(f.name(&p), "Nove");
    // A feature shorter than the schema reads as missing values, not a panic.
    let short = Feature {
        values: Box::default(),
        ..p
    };
    assert_eq!(f.value(Field::ProjectSpent, &short), None);
    assert_eq!(f.name(&short), "P9");
    // Named but absent: refused, naming the layer given.
    roles.set("project_end_field", "fine");
    let e = RoleFields::bind(Role::Projects, &roles, "progetti", &schema).unwrap_err();
    assert_eq!(
        e,
        ReportError::UnknownField {
            role: "projects".into(),
            layer: "progetti".into(),
            field: "fine".into()
        }
    );
    assert_eq!(
        completed_status(&RoleTable::default()),
        ("completed", false)
    );
    assert_eq!(completed_status(&roles), ("completed", false));
    roles.set("completed_status", "concluso");
    assert_eq!(completed_status(&roles), ("concluso", true));
}
