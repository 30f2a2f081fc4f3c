//! A size-bounded in-memory cache of encoded tiles, least recently used out first.
//!
//! A tile is determined by its layer, the layer's state, the tile and the filter, so the key
//! holds all four ([`TileKey`]): the layer's *generation* is a number that changes whenever the
//! layer does (an edit, a reload), so a tile cut before a change is never answered after it;
//! it simply stops being asked for and ages out.
//!
//! Empty tiles are cached too, as `None`, costing only the entry's fixed overhead.
//!
//! The bound is in bytes: each entry counts its tile's length, its key's text and
//! [`ENTRY_OVERHEAD`] for the map slots and bookkeeping. When an insertion passes the bound the
//! least recently used entries leave until the total is within it again; a tile larger than
//! the whole bound is not kept.
//!
//! Structure: a hash map from key to (tile, last-use tick) and an ordered map from tick to
//! key. A hit moves the entry to a new tick; eviction takes the smallest ticks. Cost: O(log n)
//! per lookup or insertion for n entries (the ordered map), O(log n) per evicted entry; one
//! mutex, held only for those map operations (never while a tile is cut).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// What each entry costs besides its tile and key text (bytes): both maps' slots, the
/// `Arc`, the tick. An estimate that errs high.
pub const ENTRY_OVERHEAD: usize = 160;

/// The default bound: 64 MiB.
pub const DEFAULT_BYTES: usize = 64 * 1024 * 1024;

/// What identifies a cached tile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// The layer id (or a name of the whole catalogue's tile).
    pub layer: String,
    /// Changes with every change of the layer.
    pub generation: u64,
    pub z: u8,
    pub x: u32,
    pub y: u32,
    /// The filter, its language and CRS as written (empty: none).
    pub filter: String,
}

impl TileKey {
    fn cost(&self, tile: &Option<Arc<[u8]>>) -> usize {
        ENTRY_OVERHEAD + self.layer.len() + self.filter.len() + tile.as_ref().map_or(0, |t| t.len())
    }
}

struct Entry {
    tile: Option<Arc<[u8]>>,
    tick: u64,
    cost: usize,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<TileKey, Entry>,
    order: BTreeMap<u64, TileKey>,
    tick: u64,
    bytes: usize,
    hits: u64,
    misses: u64,
}

/// The cache; share it behind an `Arc` or in a shared state.
pub struct TileCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

/// Counters of a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub entries: usize,
    /// The bytes counted against the bound.
    pub bytes: usize,
    pub capacity: usize,
    pub hits: u64,
    pub misses: u64,
}

impl TileCache {
    /// A cache of at most `capacity` bytes (0: nothing is kept).
    pub fn new(capacity: usize) -> TileCache {
        TileCache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The tile of `key` when cached: `Some(None)` for a cached empty tile.
    pub fn get(&self, key: &TileKey) -> Option<Option<Arc<[u8]>>> {
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let Some(entry) = inner.entries.get_mut(key) else {
            inner.misses += 1;
            return None;
        };
        let old = std::mem::replace(&mut entry.tick, tick);
        let tile = entry.tile.clone();
        let k = inner.order.remove(&old);
        if let Some(k) = k {
            inner.order.insert(tick, k);
        }
        inner.hits += 1;
        Some(tile)
    }

    /// Keeps `tile` under `key`, evicting the least recently used entries past the bound.
    pub fn insert(&self, key: TileKey, tile: Option<Arc<[u8]>>) {
        let cost = key.cost(&tile);
        if cost > self.capacity {
            return;
        }
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        if let Some(old) = inner.entries.remove(&key) {
            inner.order.remove(&old.tick);
            inner.bytes -= old.cost;
        }
        inner.order.insert(tick, key.clone());
        inner.entries.insert(key, Entry { tile, tick, cost });
        inner.bytes += cost;
        while inner.bytes > self.capacity {
            let Some((_, oldest)) = inner.order.pop_first() else {
                break;
            };
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.bytes -= e.cost;
            }
        }
    }

    /// The cached tile of `key`, else `make`'s, kept. `make` runs without the lock (two
    /// requests for the same missing tile may both cut it; the second insertion replaces the
    /// first).
    pub fn get_or_make<E>(
        &self,
        key: TileKey,
        make: impl FnOnce() -> Result<Option<Vec<u8>>, E>,
    ) -> Result<Option<Arc<[u8]>>, E> {
        if let Some(tile) = self.get(&key) {
            return Ok(tile);
        }
        let tile: Option<Arc<[u8]>> = make()?.map(Arc::from);
        self.insert(key, tile.clone());
        Ok(tile)
    }

    /// The counters now.
    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            entries: inner.entries.len(),
            bytes: inner.bytes,
            capacity: self.capacity,
            hits: inner.hits,
            misses: inner.misses,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(layer: &str, generation: u64, x: u32) -> TileKey {
        TileKey {
            layer: layer.into(),
            generation,
            z: 5,
            x,
            y: 7,
            filter: String::new(),
        }
    }

    fn tile(n: usize) -> Option<Arc<[u8]>> {
        Some(Arc::from(vec![7u8; n]))
    }

    #[test]
    fn the_least_recently_used_leave_first_and_the_bound_holds() {
        // Each entry of a 1000-byte tile with key "a" costs 160 + 1 + 1000 = 1161 bytes; three
        // fit in 3500, a fourth does not.
        let cache = TileCache::new(3500);
        cache.insert(key("a", 1, 0), tile(1000));
        cache.insert(key("a", 1, 1), tile(1000));
        cache.insert(key("a", 1, 2), tile(1000));
        assert_eq!(cache.stats().bytes, 3 * 1161);
        // Tile 0 used: tile 1 is now the least recently used.
        assert!(cache.get(&key("a", 1, 0)).is_some());
        cache.insert(key("a", 1, 3), tile(1000));
        let s = cache.stats();
        assert_eq!((s.entries, s.bytes), (3, 3 * 1161));
        assert!(cache.get(&key("a", 1, 1)).is_none());
        for x in [0, 2, 3] {
            assert_eq!(cache.get(&key("a", 1, x)).unwrap().unwrap().len(), 1000);
        }
        // Another generation is another tile.
        assert!(cache.get(&key("a", 2, 0)).is_none());
        // An empty tile costs the overhead and the key only.
        cache.insert(key("b", 1, 0), None);
        assert_eq!(cache.get(&key("b", 1, 0)), Some(None));
        assert!(cache.stats().bytes <= 3500);
        // A tile larger than the bound is not kept, and evicts nothing.
        let before = cache.stats();
        cache.insert(key("a", 1, 9), tile(4000));
        assert!(cache.get(&key("a", 1, 9)).is_none());
        assert_eq!(cache.stats().entries, before.entries);
    }

    #[test]
    fn replacing_an_entry_counts_it_once() {
        let cache = TileCache::new(10_000);
        cache.insert(key("a", 1, 0), tile(100));
        cache.insert(key("a", 1, 0), tile(300));
        let s = cache.stats();
        assert_eq!((s.entries, s.bytes), (1, 160 + 1 + 300));
        let made = cache
            .get_or_make::<()>(key("a", 1, 0), || panic!("cached"))
            .unwrap();
        assert_eq!(made.unwrap().len(), 300);
        let made = cache
            .get_or_make::<()>(key("a", 1, 5), || Ok(None))
            .unwrap();
        assert!(made.is_none());
        assert_eq!(cache.get(&key("a", 1, 5)), Some(None));
    }
}
