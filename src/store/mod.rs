//! The store: loaded layers with their R-tree indexes, gathered in one immutable [`Catalog`].
//!
//! Loading runs load -> reproject -> validate -> index once; afterwards a `Catalog` never
//! changes. Share it as `Arc<Catalog>` across threads. A change (an edit of an editable layer,
//! see [`crate::edit`]) makes a new `Catalog` with [`Catalog::with_layer`]: it shares every
//! other layer (`Arc<Layer>`), and readers holding the old one go on reading it unchanged.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use geo::{BoundingRect, Geometry, Rect};
use rayon::prelude::*;

use crate::catalog::{CatalogConfig, LayerConfig};
use crate::crs::{self, CrsError, Transformer};
use crate::feature::{geometry_type_name, Feature, FeatureId, Field, Value};
use crate::source::{self, RawFeature, ReadOptions, SourceError};
use crate::validate;

pub mod rtree;
#[cfg(test)]
pub(crate) mod testing;

pub use rtree::PackedRTree;

/// Errors loading a catalogue; each names the layer and what went wrong.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error("working CRS: {0}")]
    WorkingCrs(#[source] CrsError),
    #[error("layer {layer:?}: {source}")]
    Source {
        layer: String,
        #[source]
        source: SourceError,
    },
    #[error("layer {layer:?} ({file}): {source}")]
    Crs {
        layer: String,
        file: PathBuf,
        #[source]
        source: CrsError,
    },
    /// Feature ids must be unique: links, `/items/{id}`, reports and filters name features by
    /// id, and a silent fallback to the FID would change every one of them. The layer is
    /// refused, naming the first few repeated ids and how to fix the data.
    #[error(
        "layer {layer:?} ({file}): {}",
        duplicate_ids_message(.id_field.as_deref(), .duplicates, *.repeated)
    )]
    DuplicateFeatureIds {
        layer: String,
        file: PathBuf,
        /// The catalogue's `id_field`; `None` when the ids are the source's FIDs.
        id_field: Option<String>,
        /// The first few repeated ids (in the order they first repeat) and how many
        /// features share each.
        duplicates: Vec<(FeatureId, usize)>,
        /// How many distinct ids are repeated in all.
        repeated: usize,
    },
    /// The store of edited layers could not be opened or read, or an editable layer's
    /// setup (rules, history) is wrong.
    #[error("{0}")]
    Edit(String),
    #[error("layer {layer:?} has {count} features, more than the {max} an index can address")]
    TooManyFeatures {
        layer: String,
        count: usize,
        max: usize,
    },
}

/// How many repeated feature ids an error names.
const SHOWN_DUPLICATES: usize = 5;

/// The text of [`LoadError::DuplicateFeatureIds`]: which ids repeat, and what to do about it.
fn duplicate_ids_message(
    id_field: Option<&str>,
    duplicates: &[(FeatureId, usize)],
    repeated: usize,
) -> String {
    let listed: Vec<String> = duplicates
        .iter()
        .map(|(id, n)| match id {
            FeatureId::Int(i) => format!("{i} ({n} features)"),
            FeatureId::Str(s) => format!("{s:?} ({n} features)"),
        })
        .collect();
    let more = if repeated > duplicates.len() {
        format!(" and {} more", repeated - duplicates.len())
    } else {
        String::new()
    };
    match id_field {
        Some(field) => format!(
            "id_field {field:?} is not unique: {}{more}; make the values unique in the data, \
             or remove id_field from the layer's entry to identify features by the file's FID",
            listed.join(", ")
        ),
        None => format!(
            "the file's feature ids (FID) are not unique: {}{more}; set id_field to a property \
             that is unique",
            listed.join(", ")
        ),
    }
}

/// A loaded layer: its features in the working CRS, their envelopes in an R-tree.
#[derive(Debug)]
pub struct Layer {
    pub config: LayerConfig,
    /// The CRS the source was written in (`EPSG:3003`, or WKT).
    pub source_crs: String,
    /// The GDAL driver that read the source.
    pub driver: String,
    pub fields: Vec<Field>,
    pub features: Vec<Feature>,
    index: PackedRTree,
    by_id: IdIndex,
    extent: Option<Rect<f64>>,
    geometry_types: BTreeSet<&'static str>,
    /// Time spent reading, reprojecting, validating and indexing.
    pub load_time: Duration,
    /// For an editable layer: where each feature's edits stand (see [`Revisions`]).
    pub revisions: Option<Revisions>,
    /// Changes with the layer's content while it is served: 0 as loaded; the sequence number
    /// of the last change of an edited layer, or the last one a change log shows.
    pub version: u64,
    /// Each feature's geometry in another CRS (named first), kept once computed (see
    /// [`Layer::moved`]): in chunks of [`MOVED_CHUNK`] features, each allocated when one of
    /// its features is first moved, filled feature by feature.
    moved: std::sync::OnceLock<(String, Box<[std::sync::OnceLock<MovedChunk>]>)>,
    /// For an edited layer's change log: the log, whose features are kept in the store of
    /// edits and read from there when asked for (this layer holds none; see
    /// [`crate::edit::log`]).
    pub change_log: Option<Arc<dyn KeptElsewhere>>,
}

/// Features to a chunk of [`Layer::moved`]'s cells: a tile asks for the features of one small
/// area, and a layer of a million features would otherwise allocate 64 MB of cells (a
/// geometry and its lock each) at its first tile, whatever the tile held.
const MOVED_CHUNK: usize = 1024;

/// The cells of [`MOVED_CHUNK`] features (fewer in a layer's last chunk).
type MovedChunk = Box<[std::sync::OnceLock<Geometry<f64>>]>;

/// The features of a layer that holds none itself: an edited layer's change log, whose changes
/// are kept in the store of edits ([`crate::edit::log::ChangeLog`] implements it). Each
/// question is asked up to a change (`upto`, the layer's [`version`](Layer::version)); features
/// are named by their integer ids.
pub trait KeptElsewhere: std::fmt::Debug + Send + Sync {
    /// How many features there are.
    fn count(&self, upto: u64) -> usize;
    /// The ids of `limit` features after the first `offset`, in order.
    fn page(&self, upto: u64, offset: usize, limit: usize) -> Vec<u64>;
    /// The ids (ascending) of the features whose envelope meets every box (working CRS) and
    /// whose time span meets `time` (seconds since 1970-01-01 UTC; `None`: an open end): all
    /// the features a query with these may select.
    fn select(
        &self,
        upto: u64,
        boxes: &[Rect<f64>],
        time: Option<(Option<i64>, Option<i64>)>,
    ) -> Vec<u64>;
    /// The first and last time of the features (RFC 3339).
    fn temporal_extent(&self, upto: u64) -> Option<[Option<String>; 2]>;
    /// The id a client's text names, when there is such a feature.
    fn find(&self, upto: u64, text: &str) -> Option<u64>;
    /// The features `ids`, in that order.
    fn read(&self, ids: &[u64]) -> Result<Vec<Feature>, ElsewhereError>;
    /// Each feature of `ids` (ascending) to `each`, in that order, a few hundred read at once.
    fn scan(&self, ids: &[u64], each: &mut dyn FnMut(Feature)) -> Result<(), ElsewhereError>;
    /// Itself, for the owner that knows its type.
    fn into_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync>;
}

/// Features kept elsewhere could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ElsewhereError {
    pub message: String,
    /// The place may answer later (a database unreachable, a file locked).
    pub transient: bool,
}

/// The revision of every feature of an editable layer, for strong `ETag`s: a tag names the
/// store and the sequence number of the feature's last change, so it changes with every edit.
#[derive(Debug, Clone)]
pub struct Revisions {
    /// Identifies the store the sequence numbers belong to (a store made afresh starts them
    /// again).
    pub store: String,
    /// One per feature, in [`Layer::features`] order.
    pub of_feature: Vec<u64>,
    /// The sequence number of the last change of the layer (0: none since it was imported).
    pub layer: u64,
}

impl Layer {
    /// Builds a layer from features already in the working CRS: validates what the source
    /// did not flag, computes envelopes and bulk-loads the R-tree.
    ///
    /// Cost: O(n log n) for the bulk load, plus validation (see [`validate::check`]).
    pub fn new(
        config: LayerConfig,
        source_crs: String,
        driver: String,
        fields: Vec<Field>,
        mut features: Vec<Feature>,
    ) -> Result<Layer, LoadError> {
        let started = Instant::now();
        if features.len() > rtree::MAX_LEAVES {
            return Err(LoadError::TooManyFeatures {
                layer: config.id.clone(),
                count: features.len(),
                max: rtree::MAX_LEAVES,
            });
        }
        let check = |f: &mut Feature| {
            if f.invalid.is_none() {
                f.invalid = validate::check(&f.geometry).map(crate::feature::Text::from);
            }
        };
        // A small layer (an edited layer, rebuilt at each edit) is done on the calling thread:
        // handing it to rayon's threads would cost more than the work, and wake them.
        let parallel = features.len() >= PARALLEL_INDEXING_FROM;
        if parallel {
            features.par_iter_mut().for_each(check);
        } else {
            features.iter_mut().for_each(check);
        }
        let (by_id, mut repeated) = IdIndex::new(&features);
        if !repeated.is_empty() {
            let count = repeated.len();
            repeated.truncate(SHOWN_DUPLICATES);
            return Err(LoadError::DuplicateFeatureIds {
                layer: config.id.clone(),
                file: config.origin(),
                id_field: config.id_field.clone(),
                duplicates: repeated,
                repeated: count,
            });
        }
        let entry = |(i, f): (usize, &Feature)| {
            let r = f.geometry.bounding_rect()?;
            let (min, max) = (r.min(), r.max());
            (min.x.is_finite() && min.y.is_finite() && max.x.is_finite() && max.y.is_finite())
                .then_some((i as u32, r))
        };
        let entries: Vec<(u32, Rect<f64>)> = if parallel {
            features.par_iter().enumerate().filter_map(entry).collect()
        } else {
            features.iter().enumerate().filter_map(entry).collect()
        };
        let index = PackedRTree::new(entries);
        let extent = index.extent();
        let geometry_types = features
            .iter()
            .filter(|f| f.is_valid())
            .map(|f| geometry_type_name(&f.geometry))
            .collect();
        Ok(Layer {
            config,
            source_crs,
            driver,
            fields,
            features,
            index,
            by_id,
            extent,
            geometry_types,
            load_time: started.elapsed(),
            revisions: None,
            version: 0,
            moved: std::sync::OnceLock::new(),
            change_log: None,
        })
    }

    /// This layer, built without features, standing for the features of `log`, which are kept
    /// in the store of edits: its extent and geometry types are theirs (as given).
    pub fn kept_in_store(
        mut self,
        extent: Option<Rect<f64>>,
        geometry_types: BTreeSet<&'static str>,
        log: Arc<dyn KeptElsewhere>,
    ) -> Layer {
        self.extent = extent;
        self.geometry_types = geometry_types;
        self.change_log = Some(log);
        self
    }

    /// How many features the layer has: those it holds, or, for a change log, the changes it
    /// shows (up to its [`version`](Layer::version)).
    pub fn count(&self) -> usize {
        match &self.change_log {
            Some(log) => log.count(self.version),
            None => self.features.len(),
        }
    }

    /// Feature `index`'s geometry moved by `to`, computed on first use and kept for the
    /// layer's life (a layer changed by an edit is a new layer, so it is never stale). Vector
    /// tiles move every geometry they cut to EPSG:3857: kept, each feature's move through
    /// PROJ is made once, not once per tile. The memory it takes grows with the features
    /// asked for, up to about that of the features' own coordinates, by chunks of
    /// [`MOVED_CHUNK`] features (64 kB of cells each). One target CRS is kept per layer, the
    /// first asked for; a move to another is made each time, not kept.
    pub fn moved(
        &self,
        index: usize,
        to: &crate::crs::Transformer,
    ) -> Result<std::borrow::Cow<'_, Geometry<f64>>, crate::crs::CrsError> {
        let (crs, chunks) = self.moved.get_or_init(|| {
            let chunks = (0..self.features.len().div_ceil(MOVED_CHUNK))
                .map(|_| std::sync::OnceLock::new())
                .collect();
            (to.to_crs().to_string(), chunks)
        });
        if crs != to.to_crs() {
            return Ok(std::borrow::Cow::Owned(
                to.transformed(&self.features[index].geometry)?,
            ));
        }
        let chunk = chunks[index / MOVED_CHUNK].get_or_init(|| {
            let first = index / MOVED_CHUNK * MOVED_CHUNK;
            let len = MOVED_CHUNK.min(self.features.len() - first);
            (0..len).map(|_| std::sync::OnceLock::new()).collect()
        });
        let cell = &chunk[index % MOVED_CHUNK];
        if let Some(g) = cell.get() {
            return Ok(std::borrow::Cow::Borrowed(g));
        }
        let g = to.transformed(&self.features[index].geometry)?;
        // Another thread may have set it meanwhile: the same geometry either way.
        Ok(std::borrow::Cow::Borrowed(cell.get_or_init(|| g)))
    }

    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// The R-tree over feature envelopes (working CRS): its boxes are rounded outwards to
    /// `f32`, so its answers are supersets (see [`rtree`]).
    pub fn index(&self) -> &PackedRTree {
        &self.index
    }

    /// The box of all indexed features, in the working CRS.
    pub fn extent(&self) -> Option<Rect<f64>> {
        self.extent
    }

    /// The geometry types of the valid features (`Point`, `MultiPolygon`...).
    pub fn geometry_types(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.geometry_types.iter().copied()
    }

    /// The feature with this id. O(1).
    pub fn get(&self, id: &FeatureId) -> Option<&Feature> {
        self.position(id).map(|i| &self.features[i])
    }

    /// The position in [`Layer::features`] of the feature with this id. O(1).
    pub fn position(&self, id: &FeatureId) -> Option<usize> {
        self.by_id.find(&self.features, id).map(|i| i as usize)
    }

    /// The position of a field in the schema.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// The value of a property of a feature, by field name.
    pub fn value<'a>(&'a self, feature: &'a Feature, field: &str) -> Option<&'a Value> {
        self.field_index(field).and_then(|i| feature.values.get(i))
    }

    /// The strong `ETag` of the feature at `index` of an editable layer (`"<store>-<seq>"`).
    pub fn feature_tag(&self, index: usize) -> Option<String> {
        let r = self.revisions.as_ref()?;
        Some(format!("\"{}-{}\"", r.store, r.of_feature.get(index)?))
    }

    /// The features whose envelope intersects `envelope` (edges included), and possibly a few
    /// whose envelope misses it by less than the index's rounding step: callers test the
    /// geometries. In the R-tree's order. O(log n + k).
    pub fn candidates(&self, envelope: &Rect<f64>) -> impl Iterator<Item = u32> + '_ {
        let (min, max) = (envelope.min(), envelope.max());
        self.index
            .intersecting([min.x, min.y], [max.x, max.y])
            .map(|slot| self.index.item(slot))
    }

    /// Appends to `out` the features whose envelope contains the point `p` (its boundary
    /// included; and possibly a few within the index's rounding step of it, as
    /// [`candidates`](Self::candidates)), in the R-tree's order; false, having appended
    /// `max`, when there are more than `max`. O(log n + k).
    pub fn at_point(&self, p: [f64; 2], max: usize, out: &mut Vec<u32>) -> bool {
        for slot in self.index.intersecting(p, p) {
            if out.len() == max {
                return false;
            }
            out.push(self.index.item(slot));
        }
        true
    }

    /// Features that fail validation.
    pub fn invalid_features(&self) -> impl Iterator<Item = &Feature> + '_ {
        self.features.iter().filter(|f| !f.is_valid())
    }
}

/// The positions of a layer's features by id.
///
/// Integer ids that count up by one from the first feature (a file's FIDs 1 to n, a code
/// numbered in file order) need no table: the position is the id less the first. Otherwise a
/// hash table of positions in [`Layer::features`], each hashed and compared through the id of
/// the feature it points to.
///
/// Memory: nothing for a run of ids; for a table 4 bytes a slot and one control byte (10.5 MB
/// for a million features: 2^21 slots at hashbrown's load factor, against 67 MB for a map that
/// kept a copy of every id in each). A lookup hashes the id once and compares it with the
/// features the probe meets (one, nearly always).
#[derive(Debug)]
enum IdIndex {
    /// Feature `i` has the id `first + i`.
    Run { first: i64, len: usize },
    Table {
        table: hashbrown::HashTable<u32>,
        hasher: foldhash::fast::RandomState,
    },
}

impl IdIndex {
    /// The index of `features`, and the ids that repeat (in the order they first repeat, with
    /// how many features share each), which a layer refuses. A repeated id is indexed at its
    /// first feature.
    fn new(features: &[Feature]) -> (IdIndex, Vec<(FeatureId, usize)>) {
        use std::hash::BuildHasher;
        if let Some(first) = consecutive(features) {
            let len = features.len();
            return (IdIndex::Run { first, len }, Vec::new());
        }
        let hasher = foldhash::fast::RandomState::default();
        let mut table = hashbrown::HashTable::with_capacity(features.len());
        let mut repeated: Vec<(FeatureId, usize)> = Vec::new();
        let mut repeat_index: HashMap<&FeatureId, usize> = HashMap::new();
        for (i, f) in features.iter().enumerate() {
            let hash = hasher.hash_one(&f.id);
            match table.entry(
                hash,
                |&j: &u32| features[j as usize].id == f.id,
                |&j: &u32| hasher.hash_one(&features[j as usize].id),
            ) {
                hashbrown::hash_table::Entry::Vacant(slot) => {
                    slot.insert(i as u32);
                }
                hashbrown::hash_table::Entry::Occupied(_) => {
                    let k = *repeat_index.entry(&f.id).or_insert_with(|| {
                        repeated.push((f.id.clone(), 1));
                        repeated.len() - 1
                    });
                    repeated[k].1 += 1;
                }
            }
        }
        (IdIndex::Table { table, hasher }, repeated)
    }

    /// The position of the feature with `id` among `features` (the ones indexed).
    fn find(&self, features: &[Feature], id: &FeatureId) -> Option<u32> {
        use std::hash::BuildHasher;
        match self {
            IdIndex::Run { first, len } => match id {
                FeatureId::Int(v) => {
                    let at = usize::try_from(v.checked_sub(*first)?).ok()?;
                    (at < *len).then_some(at as u32)
                }
                FeatureId::Str(_) => None,
            },
            IdIndex::Table { table, hasher } => table
                .find(hasher.hash_one(id), |&j| features[j as usize].id == *id)
                .copied(),
        }
    }
}

/// The first id of `features` when every id is an integer one more than the one before.
fn consecutive(features: &[Feature]) -> Option<i64> {
    let first = match features.first()?.id {
        FeatureId::Int(v) => v,
        FeatureId::Str(_) => return None,
    };
    for (i, f) in features.iter().enumerate() {
        if f.id != FeatureId::Int(first.checked_add(i as i64)?) {
            return None;
        }
    }
    Some(first)
}

/// Progress of a load, reported per layer.
#[derive(Debug, Clone)]
pub enum LoadEvent {
    /// A layer is about to be read.
    Started {
        layer: String,
        position: usize,
        total: usize,
    },
    /// A layer is loaded and indexed.
    Finished {
        layer: String,
        features: usize,
        invalid: usize,
        elapsed: Duration,
    },
}

/// What runs after every [`Catalog::load`] (see [`set_after_load`]).
static AFTER_LOAD: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets, once per process, a function run after every catalogue load (the first and each
/// reload), on the loading thread. A load allocates and frees hundreds of megabytes of
/// temporaries (the source's records, the R-tree's entries) on several threads; an allocator
/// may keep what they freed for those threads, which then sleep. The library chooses no
/// allocator: the `territorio` command, which does, sets this to give that memory back.
/// Later calls are ignored.
pub fn set_after_load(after: fn()) {
    let _ = AFTER_LOAD.set(after);
}

/// All the layers of a catalogue, loaded and indexed. Immutable; a clone shares the layers.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub config: CatalogConfig,
    /// The CRS of every stored geometry (projected, metres).
    pub working_crs: String,
    layers: Vec<Arc<Layer>>,
    by_id: HashMap<String, usize>,
    /// How many changes this catalogue has seen since it was loaded (0: as loaded).
    pub version: u64,
}

impl Catalog {
    /// Loads every layer of a checked catalogue configuration.
    ///
    /// `progress` is called before and after each layer (from the loading thread).
    pub fn load(
        config: CatalogConfig,
        progress: &(dyn Fn(LoadEvent) + Sync),
    ) -> Result<Catalog, LoadError> {
        let working_crs = crs::normalize(&config.working_crs);
        crs::check_working_crs(&working_crs).map_err(LoadError::WorkingCrs)?;
        let total = config.layers.len();
        let mut layers = Vec::with_capacity(total);
        for (position, layer_config) in config.layers.iter().enumerate() {
            progress(LoadEvent::Started {
                layer: layer_config.id.clone(),
                position: position + 1,
                total,
            });
            let started = Instant::now();
            let mut layer = load_layer(layer_config, &working_crs)?;
            layer.load_time = started.elapsed();
            tracing::info!(
                layer = %layer.id(),
                features = layer.features.len(),
                invalid = layer.invalid_features().count(),
                source_crs = %layer.source_crs,
                ms = layer.load_time.as_secs_f64() * 1e3,
                "layer loaded"
            );
            let invalid = layer.invalid_features().count();
            if invalid > 0 {
                tracing::warn!(
                    layer = %layer.id(),
                    invalid,
                    "invalid geometries: served but flagged and left out of area maths"
                );
            }
            progress(LoadEvent::Finished {
                layer: layer.id().to_string(),
                features: layer.features.len(),
                invalid,
                elapsed: layer.load_time,
            });
            layers.push(layer);
        }
        let catalog = Catalog::from_layers(config, working_crs, layers);
        if let Some(after) = AFTER_LOAD.get() {
            after();
        }
        Ok(catalog)
    }

    /// Gathers already-built layers (used by tests and benchmarks that build data in memory).
    pub fn from_layers(config: CatalogConfig, working_crs: String, layers: Vec<Layer>) -> Catalog {
        let layers: Vec<Arc<Layer>> = layers.into_iter().map(Arc::new).collect();
        let by_id = layers
            .iter()
            .enumerate()
            .map(|(i, l)| (l.id().to_string(), i))
            .collect();
        Catalog {
            config,
            working_crs,
            layers,
            by_id,
            version: 0,
        }
    }

    /// This catalogue with `layer` in place of the layer of the same id, one version on; the
    /// other layers are shared, not copied. `None` when no layer has that id.
    pub fn with_layer(&self, layer: Layer) -> Option<Catalog> {
        let pos = *self.by_id.get(layer.id())?;
        let mut layers = self.layers.clone();
        layers[pos] = Arc::new(layer);
        Some(Catalog {
            config: self.config.clone(),
            working_crs: self.working_crs.clone(),
            layers,
            by_id: self.by_id.clone(),
            version: self.version + 1,
        })
    }

    /// This catalogue with `layer` added after the others (a layer the service derives, such
    /// as an edited layer's change log). `None` when a layer has its id already.
    pub fn with_added_layer(&self, layer: Layer) -> Option<Catalog> {
        if self.by_id.contains_key(layer.id()) {
            return None;
        }
        let mut layers = self.layers.clone();
        let mut by_id = self.by_id.clone();
        by_id.insert(layer.id().to_string(), layers.len());
        layers.push(Arc::new(layer));
        Some(Catalog {
            config: self.config.clone(),
            working_crs: self.working_crs.clone(),
            layers,
            by_id,
            version: self.version,
        })
    }

    /// The layers, in catalogue order.
    pub fn layers(&self) -> &[Arc<Layer>] {
        &self.layers
    }

    /// The position of the layer with this id in [`Catalog::layers`].
    pub fn position(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The layer with this id.
    pub fn layer(&self, id: &str) -> Option<&Layer> {
        self.by_id.get(id).map(|&i| &*self.layers[i])
    }
}

/// Layers with fewer features than this are validated and indexed on the calling thread.
pub(crate) const PARALLEL_INDEXING_FROM: usize = 4096;

/// Layers with fewer features than this are reprojected on one thread (creating PROJ objects
/// for other threads would cost more than it saves).
const PARALLEL_REPROJECTION_FROM: usize = 8192;

/// Reads one layer, reprojects it to the working CRS, validates and indexes it.
pub fn load_layer(config: &LayerConfig, working_crs: &str) -> Result<Layer, LoadError> {
    let options = ReadOptions {
        layer: config.layer.as_deref(),
        id_field: config.id_field.as_deref(),
        crs: config.crs.as_deref(),
    };
    let data = match (&config.table, &config.database) {
        (Some(name), Some(dsn)) => source::postgis::read(
            &source::postgis::Table {
                dsn,
                name,
                geometry_column: config.geometry_column.as_deref(),
            },
            &options,
        ),
        _ => source::read(&config.source, &options),
    }
    .map_err(|source| LoadError::Source {
        layer: config.id.clone(),
        source,
    })?;
    let crs_error = |source: CrsError| LoadError::Crs {
        layer: config.id.clone(),
        file: config.origin(),
        source,
    };
    // Fails early, naming the layer, when the CRS is unknown.
    let transformer = Transformer::new(&data.crs, working_crs).map_err(crs_error)?;
    let reproject = |transformer: &Transformer, raw: RawFeature| {
        let mut geometry = raw.geometry;
        let mut invalid = raw.problem;
        // Validation of the rest happens once, in the working CRS, in `Layer::new`.
        if let Err(e) = transformer.geometry(&mut geometry) {
            if invalid.is_none() {
                invalid = Some(validate::check(&geometry).unwrap_or_else(|| e.to_string()));
            }
        }
        Feature {
            id: raw.id,
            geometry,
            values: raw.values.into_boxed_slice(),
            invalid: invalid.map(crate::feature::Text::from),
        }
    };
    let features: Vec<Feature> =
        if transformer.is_identity() || data.features.len() < PARALLEL_REPROJECTION_FROM {
            // Into a vector of its own, of exactly their number: `collect` would reuse the
            // source's vector, whose slots are larger and whose capacity was the header's
            // guess (30 MB more at a million features; shrinking it later moves nothing, as
            // the allocator keeps a block shrunk by less than half where it is).
            let mut features = Vec::with_capacity(data.features.len());
            features.extend(
                data.features
                    .into_iter()
                    .map(|raw| reproject(&transformer, raw)),
            );
            features
        } else {
            // PROJ objects are not Send: each rayon job makes its own, so jobs are kept large.
            let crs = data.crs.clone();
            data.features
                .into_par_iter()
                .with_min_len(PARALLEL_REPROJECTION_FROM / 2)
                .map_init(
                    || Transformer::new(&crs, working_crs),
                    |job_transformer, raw| match job_transformer {
                        Ok(t) => Ok(reproject(t, raw)),
                        Err(e) => Err(CrsError::Unknown {
                            crs: crs.clone(),
                            reason: e.to_string(),
                        }),
                    },
                )
                .collect::<Result<_, CrsError>>()
                .map_err(crs_error)?
        };
    Layer::new(config.clone(), data.crs, data.driver, data.fields, features)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catalog_can_be_shared_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Catalog>();
        shareable::<std::sync::Arc<Catalog>>();
    }

    /// `at_point` against a scan of every envelope, on squares of many sizes that overlap, at
    /// random points and at points on envelope corners and edges (the boundary counts).
    #[test]
    fn at_point_finds_what_a_scan_finds_and_stops_past_max() {
        use geo::{coord, Rect};
        // A seeded generator of its own (a splitmix step), so that the store's tests need no
        // other module's.
        let mut state = 17u64;
        let mut range = |lo: f64, hi: f64| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            lo + (hi - lo) * ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        let features: Vec<Feature> = (0..3000)
            .map(|i| {
                let (x, y) = (range(0.0, 1000.0), range(0.0, 1000.0));
                let side = range(1.0, 80.0);
                let r = Rect::new(coord! { x: x, y: y }, coord! { x: x + side, y: y + side });
                Feature {
                    id: FeatureId::Int(i),
                    geometry: Geometry::Polygon(r.to_polygon()),
                    values: Box::default(),
                    invalid: None,
                }
            })
            .collect();
        let config = LayerConfig {
            id: "squares".into(),
            title: "squares".into(),
            description: String::new(),
            system: crate::catalog::System::Settlement,
            source: "memory".into(),
            table: None,
            geometry_column: None,
            database: None,
            layer: None,
            id_field: None,
            crs: None,
            style: None,
            edit: None,
            field_rules: Vec::new(),
        };
        let layer = Layer::new(
            config,
            "EPSG:32632".into(),
            "memory".into(),
            Vec::new(),
            features,
        )
        .unwrap();
        let scan = |p: [f64; 2]| -> Vec<u32> {
            (0..layer.features.len() as u32)
                .filter(|&i| {
                    let r = layer.features[i as usize].geometry.bounding_rect().unwrap();
                    r.min().x <= p[0] && p[0] <= r.max().x && r.min().y <= p[1] && p[1] <= r.max().y
                })
                .collect()
        };
        let mut points: Vec<[f64; 2]> = (0..2000)
            .map(|_| [range(-10.0, 1090.0), range(-10.0, 1090.0)])
            .collect();
        for f in layer.features.iter().take(300) {
            let r = f.geometry.bounding_rect().unwrap();
            points.push([r.min().x, r.min().y]);
            points.push([r.max().x, r.max().y]);
            points.push([r.min().x, (r.min().y + r.max().y) / 2.0]);
        }
        let mut most = 0;
        let mut extra = 0;
        for p in points {
            let expected = scan(p);
            let mut found = Vec::new();
            assert!(layer.at_point(p, usize::MAX, &mut found));
            found.sort_unstable();
            // Every feature whose envelope holds the point; more only within the index's
            // rounding of the envelopes to f32 (a step of 6e-5 at these coordinates).
            assert!(expected.iter().all(|i| found.contains(i)), "at {p:?}");
            for i in found.iter().filter(|i| !expected.contains(i)) {
                let r = layer.features[*i as usize]
                    .geometry
                    .bounding_rect()
                    .unwrap();
                let gap = (r.min().x - p[0])
                    .max(p[0] - r.max().x)
                    .max(r.min().y - p[1])
                    .max(p[1] - r.max().y);
                assert!(gap <= 1e-4, "{i} at {p:?} is {gap} away");
                extra += 1;
            }
            most = most.max(expected.len());
            // One fewer than there are: false, with that many found, all of them right.
            if let Some(max) = found.len().checked_sub(1) {
                let mut some = Vec::new();
                assert!(!layer.at_point(p, max, &mut some), "at {p:?}");
                assert_eq!(some.len(), max);
                assert!(some.iter().all(|i| found.contains(i)));
            }
        }
        // Points at the envelopes' corners and edges, and random ones: the rounding made no
        // difference to any of them (an envelope within 6e-5 of another's edge is unlikely).
        assert_eq!(extra, 0);
        // The squares overlap: some points are in several.
        assert!(most >= 3, "{most}");
    }

    #[test]
    fn ids_counting_up_need_no_table_and_others_get_one() {
        use geo::point;
        let with_ids = |ids: &[FeatureId]| -> Vec<Feature> {
            ids.iter()
                .enumerate()
                .map(|(i, id)| Feature {
                    id: id.clone(),
                    geometry: Geometry::Point(point!(x: i as f64, y: 0.0)),
                    values: Box::default(),
                    invalid: None,
                })
                .collect()
        };
        let int = FeatureId::Int;
        // 5, 6, ... 104: a run from 5.
        let run: Vec<FeatureId> = (5..=104).map(int).collect();
        let features = with_ids(&run);
        let (index, repeated) = IdIndex::new(&features);
        assert!(matches!(index, IdIndex::Run { first: 5, len: 100 }));
        assert!(repeated.is_empty());
        assert_eq!(index.find(&features, &int(5)), Some(0));
        assert_eq!(index.find(&features, &int(104)), Some(99));
        for missing in [
            int(4),
            int(105),
            int(i64::MIN),
            int(i64::MAX),
            FeatureId::Str("5".into()),
        ] {
            assert_eq!(index.find(&features, &missing), None, "{missing:?}");
        }
        // A gap, text ids, a run that would pass i64::MAX: tables, with the same answers.
        let gap = with_ids(&[int(1), int(2), int(4)]);
        let text = with_ids(&[FeatureId::Str("a".into()), FeatureId::Str("b".into())]);
        let top = with_ids(&[int(i64::MAX), int(i64::MIN)]);
        for (features, lookups) in [
            (
                &gap,
                vec![(int(1), Some(0)), (int(4), Some(2)), (int(3), None)],
            ),
            (
                &text,
                vec![(FeatureId::Str("b".into()), Some(1)), (int(0), None)],
            ),
            (
                &top,
                vec![(int(i64::MIN), Some(1)), (int(i64::MAX), Some(0))],
            ),
        ] {
            let (index, repeated) = IdIndex::new(features);
            assert!(matches!(index, IdIndex::Table { .. }));
            assert!(repeated.is_empty());
            for (id, at) in lookups {
                assert_eq!(index.find(features, &id), at, "{id:?}");
            }
        }
        // Repeated ids are reported, whichever their order.
        let twice = with_ids(&[int(1), int(2), int(2), int(3), int(2)]);
        let (_, repeated) = IdIndex::new(&twice);
        // Three features share the id 2.
        assert_eq!(repeated, vec![(int(2), 3)]);
    }

    #[test]
    fn a_moved_geometry_is_moved_once_and_kept() {
        let layers = crate::store::testing::province_layers();
        let layer = &layers[0];
        // The province's coordinates are small numbers in EPSG:32632; moved to EPSG:3857.
        let to = crate::crs::Transformer::new("EPSG:32632", "EPSG:3857").unwrap();
        for i in 0..layer.features.len() {
            let direct = to.transformed(&layer.features[i].geometry).unwrap();
            let first = layer.moved(i, &to).unwrap();
            assert_eq!(*first, direct, "feature {i}: what PROJ gives");
            let again = layer.moved(i, &to).unwrap();
            assert!(
                std::ptr::eq(&*first, &*again),
                "feature {i}: kept, not moved again"
            );
            // Another target is moved each time, and right.
            let other = crate::crs::Transformer::new("EPSG:32632", "EPSG:4326").unwrap();
            let moved = layer.moved(i, &other).unwrap();
            assert!(matches!(moved, std::borrow::Cow::Owned(_)));
            assert_eq!(
                *moved,
                other.transformed(&layer.features[i].geometry).unwrap()
            );
        }
        // A layer made again (as an edit makes it) starts with nothing kept.
        let fresh = Layer::new(
            layer.config.clone(),
            layer.source_crs.clone(),
            layer.driver.clone(),
            layer.fields.clone(),
            layer.features.clone(),
        )
        .unwrap();
        assert!(fresh.moved.get().is_none());
    }

    #[test]
    fn moved_geometries_are_kept_by_chunks_allocated_when_first_used() {
        // 2,500 points: chunks of 1,024, 1,024 and 452 features.
        let features: Vec<Feature> = (0..2_500)
            .map(|i| Feature {
                id: FeatureId::Int(i),
                geometry: Geometry::Point(geo::Point::new(600_000.0 + i as f64, 5_000_000.0)),
                values: Box::default(),
                invalid: None,
            })
            .collect();
        let layer = Layer::new(
            crate::store::testing::province_layers()[0].config.clone(),
            "EPSG:32632".into(),
            "test".into(),
            Vec::new(),
            features,
        )
        .unwrap();
        let to = crate::crs::Transformer::new("EPSG:32632", "EPSG:3857").unwrap();
        let allocated = |layer: &Layer| -> Vec<usize> {
            let (_, chunks) = layer.moved.get().unwrap();
            chunks
                .iter()
                .map(|c| c.get().map_or(0, |c| c.len()))
                .collect()
        };
        for i in [2_499, 1_500, 1_024] {
            let moved = layer.moved(i, &to).unwrap();
            assert_eq!(*moved, to.transformed(&layer.features[i].geometry).unwrap());
        }
        assert_eq!(
            allocated(&layer),
            [0, 1_024, 452],
            "the first chunk untouched"
        );
        layer.moved(0, &to).unwrap();
        assert_eq!(allocated(&layer), [1_024, 1_024, 452]);
        // Each kept once, whichever chunk holds it.
        for i in [0, 1_023, 1_024, 2_499] {
            let (a, b) = (layer.moved(i, &to).unwrap(), layer.moved(i, &to).unwrap());
            assert!(std::ptr::eq(&*a, &*b), "feature {i}");
        }
    }
}
