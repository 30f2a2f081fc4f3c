//! "What is here": for a geometry, the features of every layer it intersects, grouped by PTCP
//! system.
//!
//! Cost: one [`select`] (intersects) per layer, O(log n + k) index work each.

use geo::Geometry;
use serde::Serialize;

use super::{select, AnalysisError, Predicate};
use crate::catalog::System;
use crate::feature::Value;
use crate::store::Catalog;

/// What can go wrong in [`locate`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LocateError {
    #[error("the catalogue has no layer {layer:?}")]
    UnknownLayer { layer: String },
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
}

/// A feature found here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Located {
    /// Index of the feature in [`Layer::features`](crate::store::Layer::features).
    #[serde(skip)]
    pub feature: u32,
    pub id: String,
    /// The value of the catalogue's name field (the `name_field` given to [`locate`]), when the layer has it.
    pub name: Option<String>,
}

/// The features of one layer found here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerHits {
    pub layer: String,
    pub title: String,
    pub features: Vec<Located>,
}

/// The layers of one system with features here (systems and layers in catalogue order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemHits {
    pub system: System,
    pub layers: Vec<LayerHits>,
}

impl Serialize for System {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The features of every layer (or of `layers`, when given) that intersect `geometry`
/// (working CRS), grouped by system; layers with nothing here are left out. Features are named
/// by their `name_field` where their layer has it, by their id otherwise.
///
/// ```
/// # use territorio::analysis::locate;
/// # fn demo(catalog: &territorio::store::Catalog) -> Result<(), territorio::analysis::locate::LocateError> {
/// let here = geo::Geometry::Point(geo::Point::new(580_000.0, 5_000_000.0));
/// for system in locate(catalog, &here, None, "name")? {
///     for layer in &system.layers {
///         println!("{}: {} features", layer.layer, layer.features.len());
///     }
/// }
/// # Ok(()) }
/// ```
///
/// Errors: an unknown layer id in `layers` ([`LocateError::UnknownLayer`]); an invalid geometry.
pub fn locate(
    catalog: &Catalog,
    geometry: &Geometry<f64>,
    layers: Option<&[&str]>,
    name_field: &str,
) -> Result<Vec<SystemHits>, LocateError> {
    if let Some(ids) = layers {
        if let Some(missing) = ids.iter().find(|id| catalog.layer(id).is_none()) {
            return Err(LocateError::UnknownLayer {
                layer: missing.to_string(),
            });
        }
    }
    let mut out: Vec<SystemHits> = Vec::new();
    for system in System::ALL {
        let mut hits = Vec::new();
        for layer in catalog.layers() {
            if layer.config.system != system || layers.is_some_and(|ids| !ids.contains(&layer.id()))
            {
                continue;
            }
            let found = select(layer, geometry, Predicate::Intersects)?;
            if found.is_empty() {
                continue;
            }
            let name = layer.field_index(name_field);
            hits.push(LayerHits {
                layer: layer.id().to_string(),
                title: layer.config.title.clone(),
                features: found
                    .iter()
                    .map(|&i| {
                        let f = &layer.features[i as usize];
                        Located {
                            feature: i,
                            id: f.id.to_string(),
                            name: name
                                .map(|n| &f.values[n])
                                .filter(|v| !matches!(v, Value::Null))
                                .map(|v| v.to_string()),
                        }
                    })
                    .collect(),
            });
        }
        if !hits.is_empty() {
            out.push(SystemHits {
                system,
                layers: hits,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::province;

    #[test]
    fn a_point_in_the_park_and_on_farmland() {
        let c = province();
        // (900,150): municipality A, the park, the agricultural land and project P1.
        let here = Geometry::Point(geo::Point::new(900.0, 150.0));
        let found = locate(&c, &here, None, "name").unwrap();
        let flat: Vec<(System, &str, Vec<&str>)> = found
            .iter()
            .flat_map(|s| {
                s.layers.iter().map(move |l| {
                    (
                        s.system,
                        l.layer.as_str(),
                        l.features.iter().map(|f| f.id.as_str()).collect(),
                    )
                })
            })
            .collect();
        assert_eq!(
            flat,
            vec![
                (System::Settlement, "municipalities", vec!["A"]),
                (System::Rural, "agricultural_areas", vec!["AG"]),
                (System::Environmental, "parks", vec!["PK"]),
                (System::Projects, "projects", vec!["P1"]),
            ]
        );
        assert_eq!(
            locate(&c, &here, Some(&["parchi"]), "name").unwrap_err(),
            LocateError::UnknownLayer {
                layer: "parchi".into()
            }
        );
        let only = locate(&c, &here, Some(&["parks"]), "name").unwrap();
        assert_eq!(only.len(), 1);
    }
}
