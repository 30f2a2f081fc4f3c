//! The change log of an editable layer as a layer of its own (`<id>_changes`), served like any
//! collection: QGIS and GDAL add it as a layer, `datetime` selects changes by their time, CQL2
//! filters by user, operation or feature, `bbox` by where the change happened.
//!
//! One feature per change, in sequence order: `seq`, `at` (the change's time, the layer's only
//! date-time field, so `datetime` filters on it), `user`, `operation`, `feature` (the id of the
//! changed feature), `changed` (the fields whose value changed, comma-separated), then the
//! edited layer's fields as they stood after the change (before it, for a deletion); the
//! layer's own dates are kept as text there, so that they do not take part in `datetime`. The
//! geometry is the feature's after the change (before it, for a deletion).
//!
//! # Where the changes are
//!
//! The history is the store's data (SQLite, [`super::store`]; PostgreSQL, [`super::pg`]), and
//! it only grows: a server taking a stream of edits would hold all of it if the log were an
//! ordinary layer in memory. A log feature carries every field of the edited layer, about
//! 1.7 kB of live heap per change for the demo's projects (21 values, a dozen strings, the
//! geometry, the layer's R-tree and id map), and rebuilding such a layer once a second as it
//! grew copied it whole each time, leaving the allocator holding more: a demo server took edits
//! alone for a minute (55,000, two connections) and its resident memory grew 3.6 kB per change,
//! malloc's heap in use 1.7 kB (both read from the running server: `/proc/PID/status` and
//! glibc's `malloc_stats`).
//!
//! So the served catalogue holds only a [`ChangeLog`]: a compact index of the changes, and the
//! layer in the catalogue ([`ChangeLog::layer`]) has no features of its own (the API reaches the
//! log through [`KeptElsewhere`], a trait of the store of layers, which knows nothing of edits).
//! Per change the index keeps the sequence number and the time (`at`, as seconds: the span
//! `datetime` meets) and the envelope of the change's geometry, whatever the layer's fields. With
//! the envelopes in an rstar R-tree (a 40-byte leaf, and the tree's nodes, which insertions leave
//! partly empty), measured the same way as above: 127 bytes of heap in use and 122 bytes of
//! resident memory per change (47,000 edits in a minute), against 1.7 kB and 3.6 kB before, 29
//! times less resident memory. The envelopes were then packed ([`Boxes`]: 20 bytes a change and 8
//! for its sequence number, with the changes appended since the last packing in rstar's tree),
//! about 55 to 70 bytes a change in all, which a ten-minute soak of 476,000 edits measured as 62
//! bytes of resident memory a change. Then ([`Index`]) the envelopes were kept once per place, an
//! envelope that changes share (a project whose progress is edited every week keeps one place for
//! all those changes), and per change its sequence number, the start of its time and its place, 12
//! bytes, which a soak of 577,000 edits measured as 18 bytes of resident memory a change, the
//! vectors' doubling included. Now those three are packed by blocks ([`Column`]): about 2 bytes a
//! change when changes follow each other (consecutive sequence numbers, times close together, few
//! places). A log of changes each at a new place costs about 32 bytes a change (the place's
//! envelope, and its number in 2 to 4 bytes).
//! Everything else is read from the store when a page is written:
//! - a plain page, or one selected by `datetime` alone: the index gives the count and the
//!   page's sequence numbers, and only the page's changes are read (by primary key);
//! - `bbox`, a CQL2 filter, equality filters or `sortby`: the index narrows the candidates
//!   (the R-tree for a box, and for a filter's box; the times for `datetime`), the candidates
//!   are read from the store in pieces of a few hundred and tested one by one with the same
//!   tests the other collections use, keeping only their sequence numbers (and sort keys);
//!   then the page is read again. Memory for a request is one piece of changes, not the log.
//!
//! The other choice was to select in SQL. It would need the CQL2 filters translated to two
//! SQL dialects and the same answers from both as from the in-memory evaluator (null logic,
//! case-insensitive comparison, the spatial operators on the working CRS): a second
//! implementation of the filters to keep equal to the first. Reading the candidates and
//! testing them here keeps one.
//!
//! Costs, for c changes at q places, of which k are candidates and a page of p: memory about 2
//! bytes a change (more when sequence numbers, times or places are far apart: at most 24) and about
//! 28 a place; a plain or `datetime` page, O(log c + p) index work and p rows read; a box, the
//! R-tree for the places it meets and one pass over the changes' places (unpacked, tested against
//! one bit per place met); a filtered page, k rows read and decoded (about a microsecond or two
//! each with SQLite) plus O(k log k) to sort; the same for a vector tile of the log, k being the
//! changes whose envelope meets the tile. Appending a change: O(log q) amortised when it is at a
//! new place (an R-tree insertion, and a packing of every place once every q/4), O(1) at a place
//! among the last 16,384 made; a change older than the last (another server's, committed later) is
//! put in its place, O(c). All under a write lock that readers hold only while they take sequence
//! numbers from the index. Measured on a SQLite log of 142,268 changes (release build, busy
//! machine): the server starts, index read, in 0.75 s at 82 MB resident; a page of 100 at any
//! offset takes 15 ms, a page of 10,000 150 ms, a box around one project (934 changes) 45 ms, a
//! `datetime` day 17 ms; a CQL2 filter or a sort over the whole log 1.3 s of CPU, about 9 µs a
//! change, most of it decoding the changes' properties (JSON), where the log in memory answered in
//! tens of milliseconds; with PostgreSQL (a local socket), 50,515 changes read whole in 0.9 s, 100
//! by their seq in 25 ms with the connection made for them.
//! That is the price of the memory: such a query over a log of millions of changes would want
//! the filter in SQL.
//!
//! The writer appends each change to the index after its commit and publishes the log layer
//! with the edited one, so the log shows an edit as soon as the edited layer does. A layer's
//! [`version`](Layer::version) is the last change it shows: a reader of an older catalogue
//! sees the log as that catalogue had it (the index is shared, its changes after the version
//! are left out). The history of one feature (`/items/{fid}/history`) is read from the store.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use geo::{BoundingRect, Coord, Geometry, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::catalog::LayerConfig;
use crate::feature::{geometry_type_name, rect_union, Feature, FeatureId, Field, FieldType, Value};
use crate::source::wkb;
use crate::store::rtree::{PackedRTree, MAX_LEAVES};
use crate::store::{ElsewhereError, KeptElsewhere, Layer, LoadError};
use crate::time::{rfc3339, span_of, Span, Zone};

use super::column::Column;
use super::store::{self, Change, Recorded, StoreAt, StoreError};

/// The id of the log layer of layer `id`.
pub fn log_id(id: &str) -> String {
    format!("{id}_changes")
}

/// The fields of the log of a layer with `fields`.
pub fn log_fields(fields: &[Field]) -> Vec<Field> {
    let own = |name: &str, ty| Field {
        name: name.to_string(),
        ty,
    };
    let mut out = vec![
        own("seq", FieldType::Int),
        own("at", FieldType::DateTime),
        own("user", FieldType::String),
        own("operation", FieldType::String),
        own("feature", FieldType::String),
        own("changed", FieldType::String),
    ];
    out.extend(fields.iter().map(|f| Field {
        name: f.name.clone(),
        ty: match f.ty {
            FieldType::Date | FieldType::DateTime => FieldType::String,
            other => other,
        },
    }));
    out
}

/// The feature of the log for one recorded change; `None` when the change has no state (never
/// the case for changes the service records).
pub fn log_feature(fields: &[Field], recorded: &Recorded) -> Option<Feature> {
    let c: &Change = &recorded.change;
    let state = c.after.as_ref().or(c.before.as_ref())?;
    let changed: Vec<&str> = fields
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            c.before.as_ref().map(|s| &s.values[*i]) != c.after.as_ref().map(|s| &s.values[*i])
        })
        .map(|(_, f)| f.name.as_str())
        .collect();
    let mut values = vec![
        Value::Int(recorded.seq as i64),
        Value::DateTime(c.at.as_str().into()),
        Value::String(c.user.as_str().into()),
        Value::String(c.operation.name().into()),
        Value::String(c.feature.to_string().into()),
        Value::String(changed.join(",").into()),
    ];
    values.extend(state.values.iter().map(|v| match v {
        Value::Date(s) | Value::DateTime(s) => Value::String(s.clone()),
        other => other.clone(),
    }));
    Some(Feature {
        id: FeatureId::Int(recorded.seq as i64),
        geometry: state.geometry.clone(),
        values: values.into_boxed_slice(),
        invalid: None,
    })
}

/// The configuration of the log layer of `layer`.
fn log_config(layer: &Layer) -> LayerConfig {
    LayerConfig {
        id: log_id(layer.id()),
        title: format!("{}: changes", layer.config.title),
        description: format!(
            "Every change of {} ({}): who, when, which feature, which operation, and the \
             feature after the change (before it, for a deletion). datetime selects changes \
             by their time (at).",
            layer.config.title,
            layer.id()
        ),
        system: layer.config.system,
        source: layer.config.source.clone(),
        table: None,
        geometry_column: None,
        database: None,
        layer: None,
        id_field: Some("seq".into()),
        crs: None,
        style: None,
        edit: None,
        field_rules: Vec::new(),
    }
}

/// The driver a log layer names.
const DRIVER: &str = "territorio change log";

/// An R-tree entry of the index: an envelope of changes' geometries (working CRS), its number
/// among the places of the index.
type Envelope = GeomWithData<Rectangle<[f64; 2]>, u64>;

/// The envelopes of a log's places (see [`Index`]), for `bbox` and a filter's box, each with its
/// number: most of them in a packed R-tree ([`PackedRTree`]: 20 bytes a place with its share
/// of the nodes, and its number beside it, 8), those added since it was packed in an rstar
/// tree, which takes an insertion in O(log p) but costs about 100 bytes a place (its 40-byte
/// leaves and nodes that insertions leave partly empty). Once the added places are a quarter
/// as many as the packed ones ([`Boxes::MIN_RECENT`] at least), all are packed again:
/// O(p log p) every p/4 places, O(log p) amortised a place (a packing of 300,000 took 10 to 20
/// ms on the 2-core test machine, release build), under the index's write lock.
///
/// A packed box is rounded outwards to `f32` ([`crate::store::rtree`]), so a question finds
/// every change whose exact envelope answers it and possibly a few within a rounding step:
/// callers test the changes themselves, as they must anyway. The extent is kept exact.
#[derive(Debug, Default)]
struct Boxes {
    packed: PackedRTree,
    /// The number of each item of `packed`.
    numbers: Vec<u64>,
    recent: RTree<Envelope>,
    extent: Option<Rect<f64>>,
}

impl Boxes {
    /// The fewest appended changes that make the tree packed again.
    const MIN_RECENT: usize = 4096;

    /// Boxes of `envelopes` at once (the index adds its places one by one).
    #[cfg(test)]
    fn new(envelopes: Vec<Envelope>) -> Boxes {
        let mut boxes = Boxes::default();
        for e in &envelopes {
            boxes.widen(e);
        }
        if envelopes.len() <= MAX_LEAVES {
            boxes.pack(envelopes);
        } else {
            boxes.recent = RTree::bulk_load(envelopes);
        }
        boxes
    }

    fn size(&self) -> usize {
        self.packed.size() + self.recent.size()
    }

    fn widen(&mut self, e: &Envelope) {
        let r = rect_of(rstar::RTreeObject::envelope(e.geom()));
        self.extent = Some(self.extent.map_or(r, |x| rect_union(x, r)));
    }

    fn insert(&mut self, e: Envelope) {
        self.widen(&e);
        self.recent.insert(e);
        let due = self.recent.size() >= Self::MIN_RECENT.max(self.packed.size() / 4);
        if due && self.size() <= MAX_LEAVES {
            self.pack(Vec::new());
        }
    }

    /// Packs the packed boxes, the recent ones and `more` into one packed tree.
    fn pack(&mut self, more: Vec<Envelope>) {
        let recent = std::mem::take(&mut self.recent);
        let old = std::mem::take(&mut self.packed);
        let old_numbers = std::mem::take(&mut self.numbers);
        let n = old.size() + recent.size() + more.len();
        let all = (0..old.size())
            .map(|slot| {
                (
                    old_numbers[old.item(slot) as usize],
                    rect_of(old.bounds(slot)),
                )
            })
            .chain(
                recent
                    .into_iter()
                    .chain(more)
                    .map(|e| (e.data, rect_of(rstar::RTreeObject::envelope(e.geom())))),
            );
        let mut entries = Vec::with_capacity(n);
        self.numbers.reserve_exact(n);
        for (number, r) in all {
            entries.push((self.numbers.len() as u32, r));
            self.numbers.push(number);
        }
        drop(old);
        self.packed = PackedRTree::new(entries);
    }

    /// The numbers of the boxes that meet `first` and every box of `others`, in no order.
    fn meeting(&self, first: &AABB<[f64; 2]>, others: &[AABB<[f64; 2]>]) -> Vec<u64> {
        let meets_others =
            |own: &AABB<[f64; 2]>| others.iter().all(|o| rstar::Envelope::intersects(o, own));
        let packed = self
            .packed
            .intersecting(first.lower(), first.upper())
            .filter(|&slot| meets_others(&self.packed.bounds(slot)))
            .map(|slot| self.numbers[self.packed.item(slot) as usize]);
        let recent = self
            .recent
            .locate_in_envelope_intersecting(first)
            .filter(|e| meets_others(&rstar::RTreeObject::envelope(e.geom())))
            .map(|e| e.data);
        packed.chain(recent).collect()
    }
}

/// An rstar box as a `geo` rectangle.
fn rect_of(b: AABB<[f64; 2]>) -> Rect<f64> {
    Rect::new(
        Coord {
            x: b.lower()[0],
            y: b.lower()[1],
        },
        Coord {
            x: b.upper()[0],
            y: b.upper()[1],
        },
    )
}

/// The compact index of a log: per change shown, in `seq` order, its sequence number, the start of
/// its time and its place, each in a column packed by blocks ([`Column`], about 2 bytes a change
/// for all three when changes follow each other); the envelopes of the places in [`Boxes`]. A place
/// is an envelope that changes share: a feature whose properties are edited again and again keeps
/// its geometry, and its changes one place, so the envelopes cost once per place, not per change
/// (about 28 bytes packed). The last [`Index::KNOWN_PLACES`] places are known by their envelope; a
/// change at an envelope seen before them gets a new place, which costs only its envelope again.
#[derive(Debug, Default)]
struct Index {
    /// The sequence number of each change shown, ascending.
    seqs: Column,
    /// The start of each change's time in seconds since 1970-01-01 UTC, as `datetime` reads
    /// the log's `at`; none without one (then `datetime` never selects it).
    starts: Column,
    /// The end of the time of the changes whose time is not an instant (an `at` that is a
    /// date), by sequence number: the others end when they start.
    ends: BTreeMap<u64, i64>,
    /// The place of each change: its number in `tree`, or none without an envelope.
    places: Column,
    /// The envelopes of the places.
    tree: Boxes,
    /// The number of the places added last, by their envelope (the bits of its coordinates).
    known: HashMap<[u64; 4], u64>,
    /// The geometry types of the valid geometries of the changes.
    geometry_types: BTreeSet<&'static str>,
}

impl Index {
    /// The most places known by their envelope; more, and they are forgotten all at once.
    const KNOWN_PLACES: usize = 16_384;

    /// Adds the change `seq`, made at `at` (RFC 3339), that shows `geometry`: as
    /// [`Layer::new`] and [`crate::time::feature_span`] would see its feature. A change
    /// already in the index is left as it is.
    fn add(&mut self, seq: u64, at: &str, geometry: &Geometry<f64>) {
        let n = self.seqs.len();
        let position = match self.seqs.last() {
            Some(last) if last >= seq as i64 => {
                let i = self.position(seq);
                if i < n && self.seqs.get(i) == Some(seq as i64) {
                    return;
                }
                i
            }
            _ => n,
        };
        let span = span_of(at, Zone::MayOmit);
        let (start, end) = match span {
            Some(Span {
                start: Some(s),
                end: Some(e),
            }) => (Some(s), e),
            _ => (None, 0),
        };
        if start.is_some_and(|s| s != end) {
            self.ends.insert(seq, end);
        }
        let place = geometry
            .bounding_rect()
            .filter(|r| {
                let (min, max) = (r.min(), r.max());
                [min.x, min.y, max.x, max.y].iter().all(|v| v.is_finite())
            })
            .map(|r| self.place(r) as i64);
        if position == n {
            self.seqs.push(Some(seq as i64));
            self.starts.push(start);
            self.places.push(place);
        } else {
            self.seqs.insert(position, Some(seq as i64));
            self.starts.insert(position, start);
            self.places.insert(position, place);
        }
        if crate::validate::check(geometry).is_none() {
            self.geometry_types.insert(geometry_type_name(geometry));
        }
    }

    /// The number of the place of envelope `r`: a known one, or a new one.
    fn place(&mut self, r: Rect<f64>) -> u64 {
        let key = [r.min().x, r.min().y, r.max().x, r.max().y].map(f64::to_bits);
        if let Some(&known) = self.known.get(&key) {
            return known;
        }
        let number = self.tree.size() as u64;
        self.tree.insert(GeomWithData::new(
            Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
            number,
        ));
        if self.known.len() >= Self::KNOWN_PLACES {
            self.known.clear();
        }
        self.known.insert(key, number);
        number
    }

    /// The position of change `seq`, or where it would go.
    fn position(&self, seq: u64) -> usize {
        self.seqs
            .partition_point(|s| s.is_some_and(|s| s < seq as i64))
    }

    /// How many changes the index shows up to change `upto`.
    fn count(&self, upto: u64) -> usize {
        self.seqs
            .partition_point(|s| s.is_some_and(|s| s as u64 <= upto))
    }

    fn seq(&self, i: usize) -> u64 {
        self.seqs.get(i).unwrap_or_default() as u64
    }

    /// The time of the change at position `i`.
    fn span(&self, i: usize) -> Option<Span> {
        let start = self.starts.get(i)?;
        let end = self.ends.get(&self.seq(i)).copied().unwrap_or(start);
        Some(Span {
            start: Some(start),
            end: Some(end),
        })
    }
}

/// The change log of one edited layer: a compact index of its changes in memory, the changes
/// themselves in the store (see the module documentation).
#[derive(Debug)]
pub struct ChangeLog {
    store: StoreAt,
    /// The edited layer's id and fields (its changes' properties are read with them).
    layer: String,
    fields: Vec<Field>,
    index: RwLock<Index>,
}

impl ChangeLog {
    /// The log of `layer`, its index read from the store at `store` (one streamed read of the
    /// changes' times and geometries).
    pub fn open(store: &StoreAt, layer: &Layer) -> Result<ChangeLog, StoreError> {
        let mut index = Index::default();
        store::shown_changes(store, layer.id(), &mut |seq, at, geometry| {
            let geometry = wkb::decode(geometry)
                .map_err(|e| corrupt(store, format!("change {seq}: geometry: {e}")))?
                .geometry;
            index.add(seq, at, &geometry);
            Ok(())
        })?;
        Ok(ChangeLog {
            store: store.clone(),
            layer: layer.id().to_string(),
            fields: layer.fields.clone(),
            index: RwLock::new(index),
        })
    }

    fn read_index(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds changes just committed (or committed by another server), each with its `seq`.
    /// A change already in the index is not added again; one without a state is not shown.
    pub fn append<'a>(&self, changes: impl IntoIterator<Item = (u64, &'a Change)>) {
        let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
        for (seq, c) in changes {
            if let Some(state) = c.after.as_ref().or(c.before.as_ref()) {
                index.add(seq, &c.at, &state.geometry);
            }
        }
    }

    /// The layer that stands for the log in a catalogue: the log's schema, extent and geometry
    /// types, no features of its own, its version the last change in the index.
    pub fn layer(self: &Arc<Self>, edited: &Layer) -> Result<Layer, LoadError> {
        let mut log = Layer::new(
            log_config(edited),
            edited.source_crs.clone(),
            DRIVER.into(),
            log_fields(&self.fields),
            Vec::new(),
        )?;
        let index = self.read_index();
        log.version = index.seqs.last().map_or(0, |s| s as u64);
        let extent = index.tree.extent;
        let kinds = index.geometry_types.clone();
        drop(index);
        Ok(log.kept_in_store(extent, kinds, self.clone()))
    }

    /// How many changes the log shows up to change `upto`.
    pub fn count(&self, upto: u64) -> usize {
        self.read_index().count(upto)
    }

    /// The sequence numbers of a plain page: `limit` changes after the first `offset`, up to
    /// change `upto`.
    pub fn page(&self, upto: u64, offset: usize, limit: usize) -> Vec<u64> {
        let index = self.read_index();
        let n = index.count(upto);
        let start = offset.min(n);
        let end = start.saturating_add(limit).min(n);
        (start..end).map(|i| index.seq(i)).collect()
    }

    /// The sequence numbers (ascending, up to change `upto`) of the changes whose envelope
    /// meets every box of `boxes` (working CRS) and whose time meets `time`: every change
    /// that a query with these boxes and time may select, and, without boxes, exactly those
    /// it selects by time.
    pub fn select(&self, upto: u64, boxes: &[Rect<f64>], time: Option<&Span>) -> Vec<u64> {
        let index = self.read_index();
        let n = index.count(upto);
        let in_time =
            |i: usize| time.is_none_or(|t| index.span(i).is_some_and(|s| s.intersects(t)));
        let Some((first, others)) = boxes.split_first() else {
            return (0..n)
                .filter(|&i| in_time(i))
                .map(|i| index.seq(i))
                .collect();
        };
        let aabb =
            |r: &Rect<f64>| AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        let others: Vec<AABB<[f64; 2]>> = others.iter().map(aabb).collect();
        let meeting = index.tree.meeting(&aabb(first), &others);
        if meeting.is_empty() {
            return Vec::new();
        }
        // The places met, one bit each; then one pass over the changes' places.
        let mut met = vec![0u64; index.tree.size().div_ceil(64)];
        for number in meeting {
            met[number as usize / 64] |= 1 << (number % 64);
        }
        let is_met =
            |place: Option<i64>| place.is_some_and(|p| met[p as usize / 64] & (1 << (p % 64)) != 0);
        index
            .places
            .iter(n)
            .enumerate()
            .filter(|&(i, place)| is_met(place) && in_time(i))
            .map(|(i, _)| index.seq(i))
            .collect()
    }

    /// The first and last time of the changes up to change `upto` (RFC 3339), as
    /// [`crate::time::temporal_extent`] gives it for a layer; `None` without a readable time.
    pub fn temporal_extent(&self, upto: u64) -> Option<[Option<String>; 2]> {
        let index = self.read_index();
        let timed = (0..index.count(upto)).filter_map(|i| index.span(i));
        let (lo, hi) = timed.fold((None, None), |(lo, hi): (Option<i64>, Option<i64>), s| {
            let (start, end) = (s.start.unwrap_or_default(), s.end.unwrap_or_default());
            (
                Some(lo.map_or(start, |l| l.min(start))),
                Some(hi.map_or(end, |h| h.max(end))),
            )
        });
        lo.map(|lo| [Some(rfc3339(lo)), hi.map(rfc3339)])
    }

    /// The log features of the changes `seqs` (in any order), in that order, read from the
    /// store. A number that is not a change of the log is an error: the index and the store
    /// disagree.
    pub fn read(&self, seqs: &[u64]) -> Result<Vec<Feature>, StoreError> {
        let mut sorted = seqs.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut found: HashMap<u64, Feature> = HashMap::with_capacity(sorted.len());
        self.scan(&sorted, &mut |f| {
            if let FeatureId::Int(seq) = f.id {
                found.insert(seq as u64, f);
            }
        })?;
        seqs.iter()
            .map(|seq| {
                found.remove(seq).ok_or_else(|| {
                    corrupt(
                        &self.store,
                        format!(
                            "change {seq} of layer {:?} is in the log but not stored",
                            self.layer
                        ),
                    )
                })
            })
            .collect()
    }

    /// Gives `each` the log feature of each change of `seqs` (ascending), in that order, read
    /// from the store a few hundred at a time.
    pub fn scan(&self, seqs: &[u64], each: &mut dyn FnMut(Feature)) -> Result<(), StoreError> {
        let fields = &self.fields;
        store::changes_by_seq(&self.store, &self.layer, fields, seqs, &mut |piece| {
            for r in &piece {
                if let Some(f) = log_feature(fields, r) {
                    each(f);
                }
            }
        })
    }

    /// The sequence number of change `id` of the log up to change `upto`, when there is one.
    pub fn find(&self, upto: u64, id: &str) -> Option<u64> {
        let seq: u64 = id.parse().ok()?;
        let index = self.read_index();
        let i = index.position(seq);
        (seq <= upto && i < index.seqs.len() && index.seq(i) == seq).then_some(seq)
    }
}

impl KeptElsewhere for ChangeLog {
    fn count(&self, upto: u64) -> usize {
        ChangeLog::count(self, upto)
    }
    fn page(&self, upto: u64, offset: usize, limit: usize) -> Vec<u64> {
        ChangeLog::page(self, upto, offset, limit)
    }
    fn select(
        &self,
        upto: u64,
        boxes: &[Rect<f64>],
        time: Option<(Option<i64>, Option<i64>)>,
    ) -> Vec<u64> {
        let time = time.map(|(start, end)| Span { start, end });
        ChangeLog::select(self, upto, boxes, time.as_ref())
    }
    fn temporal_extent(&self, upto: u64) -> Option<[Option<String>; 2]> {
        ChangeLog::temporal_extent(self, upto)
    }
    fn find(&self, upto: u64, text: &str) -> Option<u64> {
        ChangeLog::find(self, upto, text)
    }
    fn read(&self, ids: &[u64]) -> Result<Vec<Feature>, ElsewhereError> {
        ChangeLog::read(self, ids).map_err(elsewhere)
    }
    fn scan(&self, ids: &[u64], each: &mut dyn FnMut(Feature)) -> Result<(), ElsewhereError> {
        ChangeLog::scan(self, ids, each).map_err(elsewhere)
    }
    fn into_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync> {
        self
    }
}

/// A store's error as a reader of features kept elsewhere sees it.
fn elsewhere(e: StoreError) -> ElsewhereError {
    ElsewhereError {
        transient: e.is_transient(),
        message: e.to_string(),
    }
}

/// A layer of some of the log's features (a page, a piece of candidates, a tile's), like the
/// log layer `log` (the one [`ChangeLog::layer`] made): its schema and configuration, these
/// features in this order, checked and indexed as any layer's.
pub fn features_layer(log: &Layer, features: Vec<Feature>) -> Result<Layer, LoadError> {
    let mut layer = Layer::new(
        log.config.clone(),
        log.source_crs.clone(),
        log.driver.clone(),
        log.fields.clone(),
        features,
    )?;
    layer.version = log.version;
    Ok(layer)
}

/// A store that does not hold what its index says.
fn corrupt(at: &StoreAt, reason: String) -> StoreError {
    match at {
        StoreAt::Folder(dir) => StoreError::Corrupt {
            file: dir.join(store::FILE_NAME),
            reason,
        },
        StoreAt::Postgres(dsn) => StoreError::Postgres {
            place: super::pg::place_of(dsn),
            reason,
            transient: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::store::{Operation, State, Store};
    use crate::time::parse_interval;
    use geo::{point, Intersects};

    /// The boxes of a log, packed when read and as changes are appended one by one (the
    /// appended ones packed again each time they reach a quarter of the packed ones), find
    /// what a scan of the exact envelopes finds, and at most a rounding step more; the
    /// extent stays exact.
    #[test]
    fn the_boxes_find_what_a_scan_finds_as_they_are_packed_again() {
        let mut seed = 99u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        // Points and boxes up to 40 m over 5 km square, in UTM metres.
        let envelopes: Vec<(u64, Rect<f64>)> = (1..=14_000u64)
            .map(|seq| {
                let (x, y) = (600_000.0 + next() * 5000.0, 5_000_000.0 + next() * 5000.0);
                let (w, h) = if seq % 2 == 0 {
                    (0.0, 0.0)
                } else {
                    (next() * 40.0, next() * 40.0)
                };
                (seq, Rect::new((x, y), (x + w, y + h)))
            })
            .collect();
        let envelope = |&(seq, r): &(u64, Rect<f64>)| {
            GeomWithData::new(
                Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                seq,
            )
        };
        let mut boxes = Boxes::new(envelopes[..1000].iter().map(envelope).collect());
        assert_eq!((boxes.packed.size(), boxes.recent.size()), (1000, 0));
        let queries: Vec<Rect<f64>> = (0..30)
            .map(|_| {
                let (x, y) = (600_000.0 + next() * 5000.0, 5_000_000.0 + next() * 5000.0);
                let (w, h) = (next() * 400.0, next() * 400.0);
                Rect::new((x, y), (x + w, y + h))
            })
            .collect();
        let aabb =
            |r: &Rect<f64>| AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        let mut packs = 0;
        for n in 1001..=envelopes.len() {
            let packed_before = boxes.packed.size();
            boxes.insert(envelope(&envelopes[n - 1]));
            if boxes.packed.size() != packed_before {
                packs += 1;
                assert_eq!((boxes.packed.size(), boxes.recent.size()), (n, 0));
            }
            assert_eq!(boxes.size(), n);
            if n % 1500 != 0 && n != envelopes.len() {
                continue;
            }
            let so_far = &envelopes[..n];
            let extent = so_far
                .iter()
                .fold(so_far[0].1, |a, (_, r)| rect_union(a, *r));
            assert_eq!(boxes.extent, Some(extent), "{n}");
            for (i, q) in queries.iter().enumerate() {
                let other = queries[(i + 1) % queries.len()];
                for with in [vec![], vec![aabb(&other)]] {
                    let meets = |r: &Rect<f64>, grow: f64| {
                        let r = Rect::new(
                            (r.min().x - grow, r.min().y - grow),
                            (r.max().x + grow, r.max().y + grow),
                        );
                        r.intersects(q) && (with.is_empty() || r.intersects(&other))
                    };
                    let mut got = boxes.meeting(&aabb(q), &with);
                    got.sort_unstable();
                    let exact: Vec<u64> = {
                        let mut e: Vec<u64> = so_far
                            .iter()
                            .filter(|(_, r)| meets(r, 0.0))
                            .map(|(s, _)| *s)
                            .collect();
                        e.sort_unstable();
                        e
                    };
                    let near: Vec<u64> = so_far
                        .iter()
                        .filter(|(_, r)| meets(r, 1.0))
                        .map(|(s, _)| *s)
                        .collect();
                    assert!(got.windows(2).all(|w| w[0] < w[1]), "{n}: each once");
                    assert!(
                        exact.iter().all(|s| got.binary_search(s).is_ok()),
                        "{n}, {i}"
                    );
                    assert!(got.iter().all(|s| near.contains(s)), "{n}, {i}");
                }
            }
        }
        // 1,000 packed: packed again at 5,096 (4,096 appended), 9,192, 13,288.
        assert_eq!(packs, 3);
    }

    /// The index answers as a scan of every change does (envelopes meeting every box, times
    /// meeting the span, up to a change), whether it was read from the store or built by
    /// appending as the writer does; and the changes it reads are the store's.
    #[test]
    fn the_index_selects_what_a_scan_of_every_change_selects() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let fields = vec![Field {
            name: "name".into(),
            ty: FieldType::String,
        }];
        let config = LayerConfig {
            id: "t".into(),
            title: "t".into(),
            description: "t".into(),
            system: crate::catalog::System::Projects,
            source: "t.geojson".into(),
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
            "GeoJSON".into(),
            fields.clone(),
            Vec::new(),
        )
        .unwrap();
        // A fixed sequence of pseudo-random numbers in [0, 1).
        let mut seed = 12_345u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        // Points and small boxes over a square kilometre, over two days; every tenth change a
        // deletion (shown as the feature before it); times with and without an offset.
        let mut geometries: Vec<Geometry<f64>> = Vec::new();
        let changes: Vec<Change> = (0..600)
            .map(|i| {
                let (x, y) = (600_000.0 + next() * 1000.0, 5_000_000.0 + next() * 1000.0);
                let geometry: Geometry<f64> = if i % 5 == 4 {
                    // An edit of the properties: the geometry of a change before, its place.
                    geometries[i - 1 - (i * 7) % 4].clone()
                } else if i % 3 == 0 {
                    Rect::new((x, y), (x + next() * 50.0, y + next() * 50.0))
                        .to_polygon()
                        .into()
                } else {
                    point!(x: x, y: y).into()
                };
                geometries.push(geometry.clone());
                let at = if i % 11 == 0 {
                    // A time that is a day, not an instant.
                    format!("2026-03-{:02}", 1 + i % 2)
                } else if i % 4 == 0 {
                    format!(
                        "2026-03-{:02}T{:02}:{:02}:00+01:00",
                        1 + i % 2,
                        (i * 7) % 24,
                        i % 60
                    )
                } else {
                    format!(
                        "2026-03-{:02}T{:02}:{:02}:00Z",
                        1 + i % 2,
                        (i * 5) % 24,
                        i % 60
                    )
                };
                let state = State {
                    values: vec![Value::String(format!("f{i}").into())],
                    geometry,
                };
                let (operation, before, after) = if i % 10 == 9 {
                    (Operation::Delete, Some(state), None)
                } else {
                    (Operation::Create, None, Some(state))
                };
                Change {
                    layer: "t".into(),
                    feature: FeatureId::Str(format!("F{i}").into()),
                    operation,
                    at,
                    user: "u".into(),
                    before,
                    after,
                }
            })
            .collect();
        store
            .import(
                "t",
                "t.geojson",
                &fields,
                &[],
                &changes[..300],
                "2026-03-03T00:00:00Z",
            )
            .unwrap();
        let committed = store.commit(&fields, &changes[300..]).unwrap();
        assert_eq!(committed, (301..=600).collect::<Vec<u64>>());
        let at = StoreAt::Folder(dir.path().to_path_buf());
        let opened = ChangeLog::open(&at, &layer).unwrap();
        let appended = ChangeLog {
            store: at.clone(),
            layer: "t".into(),
            fields: fields.clone(),
            index: RwLock::default(),
        };
        // In two goes, the second repeating the end of the first (a replica may be handed a
        // change twice): each is kept once.
        appended.append((1..=400u64).zip(&changes[..400]));
        appended.append((351..=600u64).zip(&changes[350..]));
        // Out of order (as a replica may see other servers' commits): the even changes, then
        // the odd ones, each put between two even ones.
        let shuffled = ChangeLog {
            store: at.clone(),
            layer: "t".into(),
            fields: fields.clone(),
            index: RwLock::default(),
        };
        let numbered: Vec<(u64, &Change)> = (1..=600u64).zip(&changes).collect();
        shuffled.append(numbered.iter().filter(|(s, _)| s % 2 == 0).copied());
        shuffled.append(numbered.iter().filter(|(s, _)| s % 2 == 1).copied());
        // A change whose geometry is another's shares its place: 600 changes, 480 places.
        for log in [&opened, &appended, &shuffled] {
            assert_eq!(log.read_index().tree.size(), 480);
        }

        let shown = |c: &Change| c.after.as_ref().or(c.before.as_ref()).unwrap().clone();
        let envelope = |c: &Change| shown(c).geometry.bounding_rect().unwrap();
        let span = |c: &Change| span_of(&c.at, Zone::MayOmit).unwrap();
        let mut boxes = Vec::new();
        for _ in 0..20 {
            let (x, y) = (600_000.0 + next() * 1000.0, 5_000_000.0 + next() * 1000.0);
            let (w, h) = (next() * 300.0, next() * 300.0);
            boxes.push(Rect::new((x, y), (x + w, y + h)));
        }
        let times = [
            None,
            Some(parse_interval("2026-03-01").unwrap()),
            Some(parse_interval("2026-03-01T12:00:00Z/..").unwrap()),
            Some(parse_interval("../2026-03-01T06:30:00Z").unwrap()),
        ];
        let mut nonempty = 0;
        for upto in [600, 451, 300, 17, 0] {
            for time in &times {
                for k in 0..=boxes.len() {
                    // No box, one box, and two boxes together.
                    let chosen: Vec<Rect<f64>> = match k {
                        0 => Vec::new(),
                        k if k % 2 == 0 => vec![boxes[k - 1], boxes[(k + 7) % boxes.len()]],
                        k => vec![boxes[k - 1]],
                    };
                    let expected: Vec<u64> = (1..=upto)
                        .filter(|&seq| {
                            let c = &changes[seq as usize - 1];
                            chosen.iter().all(|b| b.intersects(&envelope(c)))
                                && time.as_ref().is_none_or(|t| span(c).intersects(t))
                        })
                        .collect();
                    nonempty += usize::from(!expected.is_empty());
                    for log in [&opened, &appended, &shuffled] {
                        let got = log.select(upto, &chosen, time.as_ref());
                        if chosen.is_empty() {
                            assert_eq!(got, expected, "up to {upto}, {time:?}");
                        } else {
                            // Boxes give candidates: every change selected, and those whose
                            // envelope misses a box by less than a rounding step (packed
                            // boxes are f32, 0.5 m steps here), ascending.
                            assert!(got.windows(2).all(|w| w[0] < w[1]));
                            let near = |seq: u64| {
                                let c = &changes[seq as usize - 1];
                                let e = envelope(c);
                                let grown = Rect::new(
                                    (e.min().x - 1.0, e.min().y - 1.0),
                                    (e.max().x + 1.0, e.max().y + 1.0),
                                );
                                seq <= upto
                                    && chosen.iter().all(|b| b.intersects(&grown))
                                    && time.as_ref().is_none_or(|t| span(c).intersects(t))
                            };
                            assert!(
                                expected.iter().all(|s| got.contains(s))
                                    && got.iter().all(|&s| near(s)),
                                "up to {upto}, {chosen:?}, {time:?}: {got:?} for {expected:?}"
                            );
                        }
                    }
                }
            }
            for log in [&opened, &appended, &shuffled] {
                assert_eq!(log.count(upto), upto as usize);
                assert_eq!(
                    log.page(upto, 10, 25),
                    (11..=35.min(upto)).collect::<Vec<u64>>()
                );
                let lo = changes[..upto as usize]
                    .iter()
                    .filter_map(|c| span(c).start)
                    .min();
                let hi = changes[..upto as usize]
                    .iter()
                    .filter_map(|c| span(c).end)
                    .max();
                assert_eq!(
                    log.temporal_extent(upto),
                    lo.map(|lo| [Some(rfc3339(lo)), hi.map(rfc3339)])
                );
            }
        }
        assert!(nonempty > 100, "the cases select something: {nonempty}");
        // The changes read back: the store's, in the order asked for.
        let asked = [599, 3, 10, 300, 301];
        let read = opened.read(&asked).unwrap();
        for (f, seq) in read.iter().zip(asked) {
            let c = &changes[seq as usize - 1];
            assert_eq!(f.id, FeatureId::Int(seq as i64));
            assert_eq!(f.values[3], Value::String(c.operation.name().into()));
            assert_eq!(f.values[6], shown(c).values[0]);
            assert_eq!(f.geometry, shown(c).geometry);
        }
        assert!(opened.read(&[601]).is_err(), "not in the store");
        assert_eq!(opened.find(600, "42"), Some(42));
        assert_eq!(opened.find(41, "42"), None);
        assert_eq!(opened.find(600, "F42"), None);
    }

    #[test]
    fn a_change_becomes_a_feature_with_what_changed_and_the_state_after() {
        let fields = vec![
            Field {
                name: "status".into(),
                ty: FieldType::String,
            },
            Field {
                name: "end_date".into(),
                ty: FieldType::Date,
            },
        ];
        let before = State {
            values: vec![
                Value::String("design".into()),
                Value::Date("2026-01-01".into()),
            ],
            geometry: point!(x: 1.0, y: 2.0).into(),
        };
        let after = State {
            values: vec![
                Value::String("funded".into()),
                Value::Date("2026-01-01".into()),
            ],
            geometry: point!(x: 1.0, y: 2.0).into(),
        };
        let r = Recorded {
            seq: 7,
            change: Change {
                layer: "projects".into(),
                feature: FeatureId::Str("P001".into()),
                operation: Operation::Update,
                at: "2026-06-30T10:00:00Z".into(),
                user: "anna".into(),
                before: Some(before.clone()),
                after: Some(after),
            },
        };
        let f = log_feature(&fields, &r).expect("a feature");
        assert_eq!(f.id, FeatureId::Int(7));
        assert_eq!(
            f.values.to_vec(),
            vec![
                Value::Int(7),
                Value::DateTime("2026-06-30T10:00:00Z".into()),
                Value::String("anna".into()),
                Value::String("update".into()),
                Value::String("P001".into()),
                Value::String("status".into()),
                Value::String("funded".into()),
                // The layer's dates are text in the log: only `at` is its time.
                Value::String("2026-01-01".into()),
            ]
        );
        // A deletion shows the feature as it was.
        let deleted = Recorded {
            seq: 8,
            change: Change {
                operation: Operation::Delete,
                before: Some(before),
                after: None,
                ..r.change.clone()
            },
        };
        let f = log_feature(&fields, &deleted).expect("a feature");
        assert_eq!(f.values[5], Value::String("status,end_date".into()));
        assert_eq!(f.values[6], Value::String("design".into()));
        let schema = log_fields(&fields);
        assert_eq!(schema[1].ty, FieldType::DateTime);
        assert_eq!(schema[7].ty, FieldType::String);
    }
}
