//! The indicators as documents: JSON (the set as it is), CSV in long format (one row per
//! value), and the municipalities carrying their per-municipality values, for a choropleth.
//!
//! Every indicator id, unit and municipality property comes from its [`Definition`], so a
//! client can read from `definitions` which property of the municipalities carries which
//! indicator.

use std::collections::HashMap;

use serde_json::{json, Map, Value as Json};

use super::{object, DocumentError};
use crate::crs::{CrsError, Transformer};
use crate::ptcp::indicators::{
    land_take, productive, progress, services, vas, Definition, Indicators, LandTake,
    MunicipalityServices, ProgressGroup,
};
use crate::ptcp::{ReportError, Role, RoleLayers};
use crate::store::{Catalog, Layer};

/// The JSON document of the indicators: every member of [`Indicators`], in order.
pub fn document(set: &Indicators) -> Result<Map<String, Json>, DocumentError> {
    object(set)
}

/// Every value in long format: `indicator_id,group,key,value,unit`, one row per value.
/// Groups and keys with commas or quotes are quoted as RFC 4180 says.
pub fn csv(set: &Indicators) -> String {
    let mut out = String::from("indicator_id,group,key,value,unit\n");
    let mut row = |d: &Definition, group: &str, key: &str, value: Option<f64>| {
        let v = value.map(|v| format!("{v}")).unwrap_or_default();
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            d.id,
            csv_field(group),
            csv_field(key),
            v,
            csv_field(d.unit)
        ));
    };
    for g in &set.progress {
        let (group, key) = (g.group, g.key.as_str());
        row(&progress::PROJECTS, group, key, Some(g.projects as f64));
        for (status, n) in &g.by_status {
            row(
                &progress::BY_STATUS,
                &format!("{group}/status"),
                &format!("{key}/{status}"),
                Some(*n as f64),
            );
        }
        row(
            &progress::BUDGET_TOTAL,
            group,
            key,
            Some(g.budget_total_eur),
        );
        row(&progress::BUDGET_MEAN, group, key, g.budget_mean_eur);
        row(&progress::PROGRESS_MEAN, group, key, g.progress_mean_pct);
    }
    for p in &set.productive {
        let axis = p.axis.as_str();
        let count = |n: usize| Some(n as f64);
        row(&productive::INSIDE, "axis", axis, count(p.inside));
        row(
            &productive::INSIDE_SUPRA,
            "axis",
            axis,
            count(p.inside_supra),
        );
        row(&productive::OUTSIDE, "axis", axis, count(p.outside));
        row(
            &productive::BUDGET_SHARE_INSIDE,
            "axis",
            axis,
            p.budget_share_inside,
        );
        row(
            &productive::BUDGET_SHARE_INSIDE_SUPRA,
            "axis",
            axis,
            p.budget_share_inside_supra,
        );
        row(
            &productive::BUDGET_SHARE_OUTSIDE,
            "axis",
            axis,
            p.budget_share_outside,
        );
    }
    for e in &set.environmental {
        let (group, key) = match &e.feature {
            None => ("layer", e.layer.as_str()),
            Some(f) => (e.layer.as_str(), f.as_str()),
        };
        row(&vas::PROJECT_AREA, group, key, Some(e.area_m2));
        row(&vas::PROJECT_LENGTH, group, key, Some(e.length_m));
        row(&vas::PROJECTS_TOUCHING, group, key, Some(e.projects as f64));
    }
    for l in &set.land_take {
        let key = l.municipality.as_str();
        row(&land_take::AREA, "municipality", key, Some(l.area_m2));
        row(&land_take::SHARE, "municipality", key, l.share);
    }
    for s in &set.services {
        let key = s.municipality.as_str();
        row(&services::RESIDENTS, "municipality", key, s.residents);
        row(
            &services::HOSPITAL_DISTANCE,
            "municipality",
            key,
            s.hospital_distance_m,
        );
        row(
            &services::NURSING_HOME_DISTANCE,
            "municipality",
            key,
            s.nursing_home_distance_m,
        );
        row(
            &services::NURSING_BEDS_PER_1000,
            "municipality",
            key,
            s.nursing_beds_per_1000,
        );
    }
    let province = &set.province;
    let far = format!("{}", province.far_m);
    row(
        &services::RESIDENTS,
        "province",
        "",
        Some(province.residents),
    );
    row(
        &services::FAR_FROM_NURSING_HOME,
        "province",
        &far,
        province.residents_far_from_nursing_home,
    );
    row(
        &services::FAR_FROM_HOSPITAL,
        "province",
        &far,
        province.residents_far_from_hospital,
    );
    out
}

pub(super) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The municipalities with their values: what a choropleth of the indicators needs.
#[derive(Debug, Clone)]
pub struct Choropleth<'a> {
    /// The layer playing the municipalities.
    pub layer: &'a Layer,
    /// Every feature of the layer, in layer order: its index and the properties it carries
    /// besides its own, named by the definitions' `property`.
    pub features: Vec<(u32, Map<String, Json>)>,
}

impl<'a> Choropleth<'a> {
    /// The municipalities of `catalog` with the values of `set`: residents, distances to the
    /// nearest hospital and nursing home, beds per 1,000 residents, projects, budget, mean
    /// progress, land take and its share.
    ///
    /// Errors: no municipalities layer ([`ReportError::MissingRole`]), a role field named but
    /// missing.
    pub fn new(set: &Indicators, catalog: &'a Catalog) -> Result<Self, ReportError> {
        let roles = RoleLayers::new(catalog)?;
        let m = roles.require(Role::Municipalities)?;
        let by_municipality: HashMap<&str, &ProgressGroup> = set
            .progress
            .iter()
            .filter(|g| g.group == "municipality")
            .map(|g| (g.key.as_str(), g))
            .collect();
        let land: HashMap<&str, &LandTake> = set
            .land_take
            .iter()
            .map(|l| (l.municipality.as_str(), l))
            .collect();
        let services: HashMap<&str, &MunicipalityServices> = set
            .services
            .iter()
            .map(|s| (s.municipality.as_str(), s))
            .collect();
        let mut features = Vec::with_capacity(m.layer.features.len());
        for (i, f) in m.layer.features.iter().enumerate() {
            let id = f.id.to_string();
            let mut values = Map::new();
            let mut put = |d: &Definition, v: Json| {
                if let Some(property) = d.property {
                    values.insert(property.into(), v);
                }
            };
            let s = services.get(id.as_str());
            put(&services::RESIDENTS, json!(s.and_then(|s| s.residents)));
            put(
                &services::HOSPITAL_DISTANCE,
                json!(s.and_then(|s| s.hospital_distance_m)),
            );
            put(
                &services::NURSING_HOME_DISTANCE,
                json!(s.and_then(|s| s.nursing_home_distance_m)),
            );
            put(
                &services::NURSING_BEDS_PER_1000,
                json!(s.and_then(|s| s.nursing_beds_per_1000)),
            );
            let p = by_municipality.get(id.as_str());
            put(&progress::PROJECTS, json!(p.map_or(0, |p| p.projects)));
            put(
                &progress::BUDGET_TOTAL,
                json!(p.map_or(0.0, |p| p.budget_total_eur)),
            );
            put(
                &progress::PROGRESS_MEAN,
                json!(p.and_then(|p| p.progress_mean_pct)),
            );
            let l = land.get(id.as_str());
            put(&land_take::AREA, json!(l.map_or(0.0, |l| l.area_m2)));
            put(&land_take::SHARE, json!(l.and_then(|l| l.share)));
            features.push((i as u32, values));
        }
        Ok(Choropleth {
            layer: m.layer,
            features,
        })
    }

    /// The foreign members of the FeatureCollection: `layer` and `numberReturned`.
    pub fn members(&self) -> [(&'static str, Json); 2] {
        [
            ("layer", json!(self.layer.id())),
            ("numberReturned", json!(self.features.len())),
        ]
    }

    /// The FeatureCollection, geometries moved by `to_output` (working CRS -> CRS84, say).
    pub fn to_geojson(&self, to_output: &Transformer) -> Result<Json, CrsError> {
        let mut features = Vec::with_capacity(self.features.len());
        for (i, values) in &self.features {
            features.push(crate::geojson_io::feature_json(
                self.layer,
                &self.layer.features[*i as usize],
                to_output,
                values.clone(),
            )?);
        }
        let members = self
            .members()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        Ok(crate::geojson_io::feature_collection(features, members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ptcp::indicators::{definitions, indicators, IndicatorOptions};
    use crate::store::testing::province;

    #[test]
    fn every_municipality_property_is_named_by_one_definition() {
        let c = province();
        let set = indicators(&c, &IndicatorOptions::default()).unwrap();
        let map = Choropleth::new(&set, &c).unwrap();
        assert_eq!(map.features.len(), 2);
        let mut named: Vec<&str> = definitions().iter().filter_map(|d| d.property).collect();
        let mut written: Vec<&str> = map.features[0].1.keys().map(String::as_str).collect();
        named.sort_unstable();
        written.sort_unstable();
        assert_eq!(written, named);
        // Municipality B (index 1): 3,000 residents, the principal municipality of P1 only
        // (budget 100), 40,000 m² of land take.
        let b = &map.features[1].1;
        assert_eq!(b["residents"], json!(3000.0));
        assert_eq!(b["projects"], json!(1));
        assert_eq!(b["budget_total_eur"], json!(100.0));
        assert_eq!(b["land_take_m2"], json!(40000.0));
        assert_eq!(
            map.members()[1],
            ("numberReturned", json!(2)),
            "one feature per municipality"
        );
    }

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"no\""), "\"say \"\"no\"\"\"");
    }
}
