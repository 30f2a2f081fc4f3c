//! The CRS84 GeoJSON text of every feature's geometry, written once, on first use, and reused
//! by every later answer: most clients ask for CRS84, and moving a geometry through PROJ and
//! writing it costs far more than copying its text.
//!
//! Memory: about 0.6 kB per feature once every geometry has been asked for (the demo's 100k
//! benchmark zones: ~60 MB).

use std::sync::{Arc, OnceLock};

use super::write::write_geometry_in;
use crate::crs::{CrsError, OutputCrs};
use crate::store::{Catalog, Layer};

/// The CRS84 GeoJSON geometry text of every feature of a catalogue, filled lazily.
///
/// Each layer's part is shared: after a change to one layer, [`GeometryCache::after_change`]
/// keeps what was written for the others.
pub struct GeometryCache {
    layers: Vec<Arc<[OnceLock<Box<str>>]>>,
}

impl GeometryCache {
    pub fn new(catalog: &Catalog) -> GeometryCache {
        GeometryCache {
            layers: catalog.layers().iter().map(|l| Self::empty(l)).collect(),
        }
    }

    fn empty(layer: &Layer) -> Arc<[OnceLock<Box<str>>]> {
        (0..layer.features.len()).map(|_| OnceLock::new()).collect()
    }

    /// The cache of `catalog`, which is the catalogue of this cache with the layer at
    /// `changed` replaced: that layer starts empty, the others are shared.
    pub fn after_change(&self, catalog: &Catalog, changed: usize) -> GeometryCache {
        let mut layers = self.layers.clone();
        if let Some(layer) = catalog.layers().get(changed) {
            layers[changed] = Self::empty(layer);
        }
        GeometryCache { layers }
    }

    /// The CRS84 geometry of feature `index` of the layer at `layer_pos` in the catalogue.
    pub fn crs84(
        &self,
        layer_pos: usize,
        layer: &Layer,
        working_crs: &str,
        index: usize,
    ) -> Result<&str, CrsError> {
        let slot = &self.layers[layer_pos][index];
        if let Some(text) = slot.get() {
            return Ok(text);
        }
        let mut out = Vec::new();
        write_geometry_in(
            &mut out,
            &layer.features[index],
            working_crs,
            &OutputCrs::crs84(),
        )?;
        // The writer writes ASCII only.
        let text: Box<str> = String::from_utf8_lossy(&out).into();
        Ok(slot.get_or_init(|| text))
    }

    /// Writes the geometry of feature `index` of `layer` (a layer of `catalog`) in `out_crs`:
    /// from the cache for CRS84, moved through PROJ otherwise.
    pub fn write(
        &self,
        catalog: &Catalog,
        layer: &Layer,
        index: usize,
        out_crs: &OutputCrs,
        out: &mut Vec<u8>,
    ) -> Result<(), CrsError> {
        let pos = catalog
            .layers()
            .iter()
            .position(|l| std::ptr::eq(&**l, layer));
        self.write_at(pos, layer, &catalog.working_crs, index, out_crs, out)
    }

    /// [`GeometryCache::write`] for a caller that knows the layer's position in the catalogue
    /// (`None`: a layer outside it, written without the cache).
    pub fn write_at(
        &self,
        layer_pos: Option<usize>,
        layer: &Layer,
        working_crs: &str,
        index: usize,
        out_crs: &OutputCrs,
        out: &mut Vec<u8>,
    ) -> Result<(), CrsError> {
        match layer_pos {
            Some(pos) if out_crs.is_crs84() => {
                out.extend_from_slice(self.crs84(pos, layer, working_crs, index)?.as_bytes());
                Ok(())
            }
            _ => write_geometry_in(out, &layer.features[index], working_crs, out_crs),
        }
    }
}
