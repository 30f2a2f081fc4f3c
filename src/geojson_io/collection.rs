//! A GeoJSON FeatureCollection written as it goes: foreign members first, then features, each
//! straight to bytes. Catalogue features take their CRS84 geometry from the
//! [`GeometryCache`]; other geometries (a clipped part, a site) are moved from the working CRS.
//!
//! Used by every answer that lists features (analysis, reports, indicators) and by the CLI;
//! it knows nothing of HTTP.

use geo::Geometry;
use serde_json::{Map, Value as Json};

use super::cache::GeometryCache;
use super::write::{write_feature, write_str, write_working_geometry};
use crate::crs::{CrsError, OutputCrs};
use crate::store::{Catalog, Layer};

/// A FeatureCollection being written.
pub struct Collection<'a> {
    catalog: &'a Catalog,
    cache: &'a GeometryCache,
    body: Vec<u8>,
    features: usize,
    geometry: Vec<u8>,
}

impl<'a> Collection<'a> {
    /// Starts a collection with `members` written before `features`.
    pub fn new(
        catalog: &'a Catalog,
        cache: &'a GeometryCache,
        members: &[(&str, Json)],
    ) -> Collection<'a> {
        let mut body = Vec::with_capacity(16 * 1024);
        body.extend_from_slice(br#"{"type":"FeatureCollection""#);
        for (k, v) in members {
            body.push(b',');
            write_str(&mut body, k);
            body.push(b':');
            // Writing a JSON value to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut body, v);
        }
        body.extend_from_slice(br#","features":["#);
        Collection {
            catalog,
            cache,
            body,
            features: 0,
            geometry: Vec::new(),
        }
    }

    fn separator(&mut self) {
        if self.features > 0 {
            self.body.push(b',');
        }
        self.features += 1;
    }

    /// Feature `index` of `layer` (a layer of the catalogue), whole, with its properties and
    /// `extra` ones.
    pub fn catalog_feature(
        &mut self,
        layer: &Layer,
        index: u32,
        out_crs: &OutputCrs,
        extra: &Map<String, Json>,
    ) -> Result<(), CrsError> {
        self.geometry.clear();
        self.cache.write(
            self.catalog,
            layer,
            index as usize,
            out_crs,
            &mut self.geometry,
        )?;
        self.push_catalogue_feature(layer, index, extra);
        Ok(())
    }

    /// Feature `index` of `layer` with another geometry (working CRS), e.g. its part inside a
    /// site.
    pub fn clipped_feature(
        &mut self,
        layer: &Layer,
        index: u32,
        geometry: &Geometry<f64>,
        out_crs: &OutputCrs,
        extra: &Map<String, Json>,
    ) -> Result<(), CrsError> {
        self.write_working(geometry, out_crs)?;
        self.push_catalogue_feature(layer, index, extra);
        Ok(())
    }

    /// Appends feature `index` of `layer` with every property, `extra` ones and the geometry
    /// already written in `self.geometry`.
    fn push_catalogue_feature(&mut self, layer: &Layer, index: u32, extra: &Map<String, Json>) {
        self.separator();
        let fields: Vec<usize> = (0..layer.fields.len()).collect();
        write_feature(
            &mut self.body,
            layer,
            &layer.features[index as usize],
            Some(&self.geometry),
            &fields,
            Some(extra),
        );
    }

    /// A feature that is not in the catalogue: a geometry (working CRS) and properties.
    pub fn free_feature(
        &mut self,
        geometry: &Geometry<f64>,
        out_crs: &OutputCrs,
        properties: &Map<String, Json>,
    ) -> Result<(), CrsError> {
        self.write_working(geometry, out_crs)?;
        self.separator();
        self.body
            .extend_from_slice(br#"{"type":"Feature","geometry":"#);
        self.body.extend_from_slice(&self.geometry);
        self.body.extend_from_slice(br#","properties":"#);
        let _ = serde_json::to_writer(&mut self.body, properties);
        self.body.push(b'}');
        Ok(())
    }

    /// Writes a geometry of the working CRS into `self.geometry`, in `out_crs`.
    fn write_working(
        &mut self,
        geometry: &Geometry<f64>,
        out_crs: &OutputCrs,
    ) -> Result<(), CrsError> {
        self.geometry.clear();
        write_working_geometry(
            &mut self.geometry,
            geometry,
            &self.catalog.working_crs,
            out_crs,
        )
    }

    /// The finished collection.
    pub fn into_bytes(mut self) -> Vec<u8> {
        self.body.extend_from_slice(b"]}");
        self.body
    }
}
