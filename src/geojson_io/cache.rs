//! The CRS84 GeoJSON text of features' geometries, written once, on first use, and reused by
//! every later answer: most clients ask for CRS84, and moving a geometry through PROJ and
//! writing it costs far more than copying its text.
//!
//! Memory is bounded by a budget in bytes shared by every layer of a server (`territorio serve
//! --geometry-cache-mb`): the slots (24 bytes a feature) are taken from it a chunk of [`CHUNK`]
//! features at a time, when the first geometry of the chunk is kept, and each text (about 0.6 kB
//! for a polygon of 20 vertices) when it is written. A server that has answered a few lookups on a
//! million zones holds a few chunks (24 kB each), not 24 MB of slots. Once the budget is spent,
//! geometries are written for each answer and not kept: the first ones asked for stay, none is
//! evicted, so a lookup never waits on a lock. A layer replaced by an edit or a reload gives its
//! bytes back when the last answer that holds its cache ends. The 100k benchmark zones take about
//! 60 MB when every geometry has been asked for; a million zones would take about 600 MB, hence the
//! bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use super::write::write_geometry_in;
use crate::crs::{CrsError, OutputCrs};
use crate::store::{Catalog, Layer};

/// What each cached text costs besides its bytes: the allocation's header and rounding.
const TEXT_OVERHEAD: usize = 16;

/// The bytes a server's caches may hold, and how many they hold.
#[derive(Debug)]
struct Budget {
    limit: usize,
    used: AtomicUsize,
}

impl Budget {
    /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
    fn take(&self, bytes: usize) -> bool {
        let before = self.used.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > self.limit {
            self.used.fetch_sub(bytes, Ordering::Relaxed);
            return false;
        }
        true
    }
}

/// Features per chunk of slots.
pub const CHUNK: usize = 1024;

/// One text slot per feature of a chunk.
type Slots = Box<[OnceLock<Box<str>>]>;

/// The cache of one layer: a chunk of slots per [`CHUNK`] features, each allocated when its
/// first text is kept. The table of chunks (24 bytes a chunk) is made with the part.
#[derive(Debug)]
struct LayerPart {
    features: usize,
    /// `None` in a chunk: the budget had no room for its slots when it was first needed;
    /// its geometries are written for each answer until the layer is replaced.
    chunks: Box<[OnceLock<Option<Slots>>]>,
    /// The bytes this part took from the budget (given back when it is dropped).
    held: AtomicUsize,
    budget: Arc<Budget>,
}

impl LayerPart {
    fn new(layer: &Layer, budget: &Arc<Budget>) -> LayerPart {
        let features = layer.features.len();
        LayerPart {
            features,
            chunks: (0..features.div_ceil(CHUNK))
                .map(|_| OnceLock::new())
                .collect(),
            held: AtomicUsize::new(0),
            budget: budget.clone(),
        }
    }

    fn take(&self, bytes: usize) -> bool {
        let taken = self.budget.take(bytes);
        if taken {
            self.held.fetch_add(bytes, Ordering::Relaxed);
        }
        taken
    }

    /// The slot of feature `index`, its chunk allocated on first use when the budget has room
    /// for it (`None`: it had not, or there is no such feature).
    fn slot(&self, index: usize) -> Option<&OnceLock<Box<str>>> {
        let chunk = index / CHUNK;
        let slots = self.chunks.get(chunk)?.get_or_init(|| {
            let start = chunk * CHUNK;
            let len = CHUNK.min(self.features - start);
            let bytes = len * std::mem::size_of::<OnceLock<Box<str>>>();
            self.take(bytes)
                .then(|| (0..len).map(|_| OnceLock::new()).collect())
        });
        slots.as_deref()?.get(index % CHUNK)
    }
}

impl Drop for LayerPart {
    fn drop(&mut self) {
        self.budget
            .used
            .fetch_sub(*self.held.get_mut(), Ordering::Relaxed);
    }
}

/// The CRS84 GeoJSON geometry text of the features of a catalogue, filled lazily within a
/// budget.
///
/// Each layer's part is shared: after a change to one layer, [`GeometryCache::after_change`]
/// keeps what was written for the others.
pub struct GeometryCache {
    layers: Vec<Arc<LayerPart>>,
    budget: Arc<Budget>,
}

impl GeometryCache {
    /// An empty cache of `catalog` that keeps at most `limit` bytes.
    pub fn new(catalog: &Catalog, limit: usize) -> GeometryCache {
        let budget = Arc::new(Budget {
            limit,
            used: AtomicUsize::new(0),
        });
        Self::with_budget(catalog, budget)
    }

    /// An empty cache of `catalog` without a bound (a command that writes each geometry once
    /// or a few times).
    pub fn unbounded(catalog: &Catalog) -> GeometryCache {
        Self::new(catalog, usize::MAX)
    }

    fn with_budget(catalog: &Catalog, budget: Arc<Budget>) -> GeometryCache {
        GeometryCache {
            layers: catalog
                .layers()
                .iter()
                .map(|l| Arc::new(LayerPart::new(l, &budget)))
                .collect(),
            budget,
        }
    }

    /// An empty cache of `catalog` within this cache's budget.
    pub fn fresh(&self, catalog: &Catalog) -> GeometryCache {
        Self::with_budget(catalog, self.budget.clone())
    }

    /// The cache of `catalog`, which is the catalogue of this cache with the layer at
    /// `changed` replaced: that layer starts empty, the others are shared.
    pub fn after_change(&self, catalog: &Catalog, changed: usize) -> GeometryCache {
        let mut layers = self.layers.clone();
        if let Some(layer) = catalog.layers().get(changed) {
            layers[changed] = Arc::new(LayerPart::new(layer, &self.budget));
        }
        GeometryCache {
            layers,
            budget: self.budget.clone(),
        }
    }

    /// The bytes the caches within this cache's budget hold (slots and texts).
    pub fn held(&self) -> usize {
        self.budget.used.load(Ordering::Relaxed)
    }

    /// The CRS84 geometry of feature `index` of the layer at `layer_pos` in the catalogue:
    /// the cached text, or, when the budget is spent, the text written into `scratch`.
    pub fn crs84<'a>(
        &'a self,
        layer_pos: usize,
        layer: &Layer,
        working_crs: &str,
        index: usize,
        scratch: &'a mut Vec<u8>,
    ) -> Result<&'a [u8], CrsError> {
        let part = &self.layers[layer_pos];
        let slot = part.slot(index);
        if let Some(text) = slot.and_then(OnceLock::get) {
            return Ok(text.as_bytes());
        }
        scratch.clear();
        write_geometry_in(
            scratch,
            &layer.features[index],
            working_crs,
            &OutputCrs::crs84(),
        )?;
        let Some(slot) = slot else {
            return Ok(scratch.as_slice());
        };
        if !part.take(scratch.len() + TEXT_OVERHEAD) {
            return Ok(scratch.as_slice());
        }
        // The writer writes ASCII only.
        let text: Box<str> = String::from_utf8_lossy(scratch).into();
        if let Err(lost) = slot.set(text) {
            // Another answer kept the same text meanwhile: give this one's bytes back.
            let bytes = lost.len() + TEXT_OVERHEAD;
            part.held.fetch_sub(bytes, Ordering::Relaxed);
            part.budget.used.fetch_sub(bytes, Ordering::Relaxed);
        }
        Ok(slot.get().map_or(scratch.as_slice(), |t| t.as_bytes()))
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
                let mut scratch = Vec::new();
                let text = self.crs84(pos, layer, working_crs, index, &mut scratch)?;
                out.extend_from_slice(text);
                Ok(())
            }
            _ => write_geometry_in(out, &layer.features[index], working_crs, out_crs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;
    use geo::{point, Geometry};

    /// A catalogue of one layer of `n` points in EPSG:32632.
    fn catalog(n: usize) -> Catalog {
        let points = (0..n)
            .map(|i| {
                let p = point!(x: 500_000.0 + i as f64, y: 5_000_000.0);
                (Geometry::Point(p), "point")
            })
            .collect();
        testing::catalog(vec![testing::layer(points)], Default::default())
    }

    fn text(cache: &GeometryCache, catalog: &Catalog, i: usize) -> String {
        let mut scratch = Vec::new();
        let layer = &catalog.layers()[0];
        let bytes = cache
            .crs84(0, layer, &catalog.working_crs, i, &mut scratch)
            .expect("written");
        String::from_utf8(bytes.to_vec()).expect("ASCII")
    }

    #[test]
    fn the_budget_bounds_what_is_kept_and_answers_stay_the_same() {
        let catalog = catalog(10);
        let slots = 10 * std::mem::size_of::<OnceLock<Box<str>>>();
        // Without a bound every text is kept.
        let all = GeometryCache::unbounded(&catalog);
        let written: Vec<String> = (0..10).map(|i| text(&all, &catalog, i)).collect();
        let cost = |i: usize| written[i].len() + TEXT_OVERHEAD;
        assert_eq!(all.held(), slots + (0..10).map(cost).sum::<usize>());
        // Point (500000, 5000000) in UTM 32N: on the central meridian, 9 degrees east; the
        // meridian arc of 5,000,000 / 0.9996 m ends about 0.1535 degrees north of 45 (the arc
        // to 45 degrees is about 4,984,944 m, a degree about 111,132 m).
        assert!(
            written[0].starts_with(r#"{"type":"Point","coordinates":[9,45.153"#),
            "{}",
            written[0]
        );
        // Room for the slots, the first three texts and one byte: those three are kept, the
        // rest written each time, and every answer is the same text.
        let kept = slots + (0..3).map(cost).sum::<usize>();
        let bounded = GeometryCache::new(&catalog, kept + 1);
        for round in 0..2 {
            for (i, expected) in written.iter().enumerate() {
                assert_eq!(&text(&bounded, &catalog, i), expected, "round {round}, {i}");
            }
            assert_eq!(bounded.held(), kept);
        }
        // Too small for the slots: nothing is kept.
        let none = GeometryCache::new(&catalog, slots - 1);
        assert_eq!(text(&none, &catalog, 4), written[4]);
        assert_eq!(none.held(), 0);
    }

    #[test]
    fn slots_are_taken_a_chunk_at_a_time() {
        // Two whole chunks and one of five features.
        let n = 2 * CHUNK + 5;
        let catalog = catalog(n);
        let slot = std::mem::size_of::<OnceLock<Box<str>>>();
        let cache = GeometryCache::unbounded(&catalog);
        assert_eq!(cache.held(), 0);
        // The last feature's chunk has five slots.
        let last = text(&cache, &catalog, n - 1);
        let mut expected = 5 * slot + last.len() + TEXT_OVERHEAD;
        assert_eq!(cache.held(), expected);
        // The first feature takes a whole chunk; a second feature of it only its text.
        let first = text(&cache, &catalog, 0);
        expected += CHUNK * slot + first.len() + TEXT_OVERHEAD;
        assert_eq!(cache.held(), expected);
        let second = text(&cache, &catalog, CHUNK - 1);
        expected += second.len() + TEXT_OVERHEAD;
        assert_eq!(cache.held(), expected);
        // Asked again: nothing more.
        assert_eq!(text(&cache, &catalog, 0), first);
        assert_eq!(cache.held(), expected);

        // A budget with room for the small chunk and its text, not for a whole chunk: the
        // first feature's text is right, and written each time.
        let small = 5 * slot + last.len() + TEXT_OVERHEAD;
        let bounded = GeometryCache::new(&catalog, small + CHUNK * slot - 1);
        assert_eq!(text(&bounded, &catalog, n - 1), last);
        assert_eq!(bounded.held(), small);
        assert_eq!(text(&bounded, &catalog, 0), first);
        assert_eq!(bounded.held(), small);
    }

    #[test]
    fn a_replaced_layer_gives_its_bytes_back() {
        let catalog = catalog(4);
        let cache = GeometryCache::new(&catalog, 1 << 20);
        for i in 0..4 {
            text(&cache, &catalog, i);
        }
        let held = cache.held();
        assert!(held > 0);
        let next = cache.after_change(&catalog, 0);
        // The old cache still holds the layer's texts while an answer holds it.
        assert_eq!(next.held(), held);
        drop(cache);
        assert_eq!(next.held(), 0);
        text(&next, &catalog, 1);
        assert!(next.held() > 0);
    }
}
