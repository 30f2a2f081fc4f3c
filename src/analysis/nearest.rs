//! The k nearest features to a geometry, by true geometry-to-geometry distance.
//!
//! A best-first walk of the R-tree: nodes and leaf envelopes are queued by their envelope
//! distance to the query's envelope (a lower bound of the true distance), and a feature's exact
//! distance is computed only when its envelope reaches the front of the queue. A feature is
//! final when its exact distance is at the front, so results come out in order. Ties are broken
//! by feature id: an exact result waits until every envelope at the same distance is opened.
//!
//! A node of the layer's packed R-tree ([`crate::store::rtree`]) has 16 children: rather than
//! queue each, an opened node's children are kept in a run of their own and the queue holds one
//! cursor for the run, at the nearest child not yet taken (found by a scan of what is left of
//! the run when the previous one is taken). And once k exact distances are known, the largest
//! of them bounds the k-th result: a box farther than that is not kept.
//!
//! Cost: O(log n + m) queue operations, where m is the number of envelopes closer than the k-th
//! result; one exact distance (linear in the vertices of both geometries) per envelope reached.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use geo::{Distance, Euclidean, Geometry};

use super::{checked_envelope, AnalysisError, Hit};
use crate::feature::FeatureId;
use crate::store::rtree::Child;
use crate::store::Layer;

/// The `k` features of `layer` nearest to `query` (working CRS), nearest first, ties by id.
///
/// ```
/// # use territorio::analysis::nearest;
/// # fn demo(layer: &territorio::store::Layer) -> Result<(), territorio::analysis::AnalysisError> {
/// let here = geo::Geometry::Point(geo::Point::new(580_000.0, 5_000_000.0));
/// for hit in nearest(layer, &here, 3)? {
///     println!("{} at {:.0} m", layer.features[hit.feature as usize].id, hit.distance_m);
/// }
/// # Ok(()) }
/// ```
pub fn nearest(layer: &Layer, query: &Geometry<f64>, k: usize) -> Result<Vec<Hit>, AnalysisError> {
    let envelope = checked_envelope(query)?;
    let mut out = Vec::with_capacity(k.min(layer.features.len()));
    if k == 0 || layer.index().size() == 0 {
        return Ok(out);
    }
    let query_box = [
        envelope.min().x,
        envelope.min().y,
        envelope.max().x,
        envelope.max().y,
    ];
    let point = match query {
        Geometry::Point(p) => Some(*p),
        _ => None,
    };
    let exact = |i: u32| -> f64 {
        let g = &layer.features[i as usize].geometry;
        match point {
            Some(p) => Euclidean.distance(&p, g),
            None => Euclidean.distance(query, g),
        }
    };

    let index = layer.index();
    let Some(root) = index.root() else {
        return Ok(out);
    };
    // The children of each node opened, each node's in a run of its own, and in the queue a
    // cursor for each run: at its nearest child not yet taken, moved to the front of what is
    // left of the run (a run is short, and few of its children are ever taken: cheaper than
    // sorting it, or than queueing every child).
    let mut runs: Vec<(f64, Child)> = Vec::new();
    let mut heap = BinaryHeap::new();
    // The k smallest exact distances computed so far (a max-heap): once there are k, the
    // largest is a bound on the k-th result, and a box farther than it holds none.
    let mut best: BinaryHeap<Bound> = BinaryHeap::with_capacity(k.min(64) + 1);
    let mut bound = f64::INFINITY;
    let open = |node, bound: f64, runs: &mut Vec<(f64, Child)>, heap: &mut BinaryHeap<Entry>| {
        let start = runs.len();
        for (child, b) in index.children(node) {
            // The index's boxes contain the envelopes they stand for: the distance to one
            // is a lower bound of the distance to what is inside. Equal kept: a feature at
            // the k-th distance may win on its id.
            let d = box_distance(&query_box, &b);
            if d <= bound {
                runs.push((d, child));
            }
        }
        let end = runs.len() as u32;
        queue_run(runs, start as u32, end, bound, heap);
    };
    open(root, bound, &mut runs, &mut heap);
    while let Some(Entry { distance, item }) = heap.pop() {
        match item {
            Item::Run(at, end) => {
                let child = runs[at as usize].1;
                queue_run(&mut runs, at + 1, end, bound, &mut heap);
                let i = match child {
                    Child::Node(node) => {
                        open(node, bound, &mut runs, &mut heap);
                        continue;
                    }
                    Child::Leaf(i) => i,
                };
                // The exact distance, not raised to the envelope bound: the two can differ in
                // the last bit, and results must carry the true distance.
                let d = exact(i);
                if d > bound {
                    continue;
                }
                best.push(Bound(d));
                if best.len() > k {
                    best.pop();
                }
                if best.len() == k {
                    bound = best.peek().map_or(f64::INFINITY, |b| b.0);
                }
                heap.push(Entry {
                    distance: d,
                    item: Item::Exact(i, &layer.features[i as usize].id),
                });
            }
            Item::Exact(i, _) => {
                out.push(Hit {
                    feature: i,
                    distance_m: distance,
                });
                if out.len() == k {
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// Moves the nearest child of `runs[at..end]` to `at` and queues the run's cursor there, unless
/// the run is empty or that child is farther than `bound`.
fn queue_run(
    runs: &mut [(f64, Child)],
    at: u32,
    end: u32,
    bound: f64,
    heap: &mut BinaryHeap<Entry>,
) {
    let run = &mut runs[at as usize..end as usize];
    let Some(nearest) = (0..run.len()).min_by(|&a, &b| run[a].0.total_cmp(&run[b].0)) else {
        return;
    };
    run.swap(0, nearest);
    if run[0].0 <= bound {
        heap.push(Entry {
            distance: run[0].0,
            item: Item::Run(at, end),
        });
    }
}

/// Distance from the query box (a point's is the point) to a box (minimum x, minimum y,
/// maximum x, maximum y): a lower bound of the distance to what is inside.
fn box_distance(q: &[f64; 4], b: &[f64; 4]) -> f64 {
    let dx = (b[0] - q[2]).max(q[0] - b[2]).max(0.0);
    let dy = (b[1] - q[3]).max(q[1] - b[3]).max(0.0);
    (dx * dx + dy * dy).sqrt()
}

/// A distance, ordered by `total_cmp`.
struct Bound(f64);

impl Ord for Bound {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl PartialOrd for Bound {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Bound {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Bound {}

enum Item<'a> {
    /// The children `runs[at..end]` of a node not yet taken, the nearest of them at `at`.
    Run(u32, u32),
    Exact(u32, &'a FeatureId),
}

struct Entry<'a> {
    distance: f64,
    item: Item<'a>,
}

impl Entry<'_> {
    /// Envelopes before exact results at the same distance; exact results by id.
    fn rank(&self) -> u8 {
        match self.item {
            Item::Run(..) => 0,
            Item::Exact(..) => 1,
        }
    }
}

impl Ord for Entry<'_> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the smallest first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .distance
            .total_cmp(&self.distance)
            .then_with(|| other.rank().cmp(&self.rank()))
            .then_with(|| match (&self.item, &other.item) {
                (Item::Exact(_, a), Item::Exact(_, b)) => b.cmp(a),
                _ => Ordering::Equal,
            })
    }
}

impl PartialOrd for Entry<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Entry<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry<'_> {}

/// The feature of `layer` nearest to `query` among those `keep` accepts (by feature index), or
/// `None` when it accepts none. Asks the index for the 1, 4, 16... nearest until one is
/// accepted or the layer is exhausted.
///
/// ```
/// # use territorio::analysis::nearest_where;
/// # fn demo(roads: &territorio::store::Layer, is_state_road: impl Fn(u32) -> bool) -> Result<(), territorio::analysis::AnalysisError> {
/// let here = geo::Geometry::Point(geo::Point::new(580_000.0, 5_000_000.0));
/// if let Some(hit) = nearest_where(roads, &here, &is_state_road)? {
///     println!("the nearest state road is {:.0} m away", hit.distance_m);
/// }
/// # Ok(()) }
/// ```
///
/// Cost: O(log n + m) for the m features passed over.
pub fn nearest_where(
    layer: &Layer,
    query: &Geometry<f64>,
    keep: &dyn Fn(u32) -> bool,
) -> Result<Option<Hit>, AnalysisError> {
    let total = layer.index().size();
    let mut k = 1;
    loop {
        let hits = nearest(layer, query, k)?;
        if let Some(h) = hits.iter().find(|h| keep(h.feature)) {
            return Ok(Some(*h));
        }
        if hits.len() < k || k >= total {
            return Ok(None);
        }
        k *= 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::sort_hits;
    use crate::store::testing::{layer, Rng};
    use geo::{line_string, point, polygon};

    #[test]
    fn hand_checked_distances() {
        // Square [0,10]², a line from (20,0) to (20,10), a point at (0,-7).
        let l = layer(vec![
            (
                Geometry::Polygon(
                    polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)],
                ),
                "a",
            ),
            (
                Geometry::LineString(line_string![(x: 20., y: 0.), (x: 20., y: 10.)]),
                "b",
            ),
            (Geometry::Point(point!(x: 0., y: -7.)), "c"),
        ]);
        // From (14, 13): square corner (10,10) is 5 away (3-4-5), the line's end (20,10) is
        // sqrt(36 + 9) = 6.708, the point (0,-7) is sqrt(196 + 400) = 24.413.
        let q = Geometry::Point(point!(x: 14., y: 13.));
        let hits = nearest(&l, &q, 3).unwrap();
        let got: Vec<(u32, f64)> = hits.iter().map(|h| (h.feature, h.distance_m)).collect();
        assert_eq!(got[0], (0, 5.0));
        assert_eq!(got[1].0, 1);
        assert!((got[1].1 - 45f64.sqrt()).abs() < 1e-12);
        assert_eq!(got[2].0, 2);
        assert!((got[2].1 - 596f64.sqrt()).abs() < 1e-12);
        // A point inside the square is at distance 0 from it.
        let inside = Geometry::Point(point!(x: 5., y: 5.));
        assert_eq!(
            nearest(&l, &inside, 1).unwrap()[0],
            Hit {
                feature: 0,
                distance_m: 0.0
            }
        );
    }

    #[test]
    fn true_distance_not_envelope_distance() {
        // A long diagonal line has an envelope that covers the query point, but the line
        // itself is far; a small square 3 m away must win.
        let l = layer(vec![
            (
                Geometry::LineString(line_string![(x: 0., y: 0.), (x: 100., y: 100.)]),
                "diag",
            ),
            (
                Geometry::Polygon(
                    polygon![(x: 80., y: 23.), (x: 81., y: 23.), (x: 81., y: 24.), (x: 80., y: 24.)],
                ),
                "sq",
            ),
        ]);
        let q = Geometry::Point(point!(x: 80., y: 20.));
        let hits = nearest(&l, &q, 2).unwrap();
        assert_eq!(
            hits[0],
            Hit {
                feature: 1,
                distance_m: 3.0
            }
        );
        // distance from (80,20) to the line y = x is |80 - 20| / sqrt(2)
        assert!((hits[1].distance_m - 60.0 / 2f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn ties_are_broken_by_feature_id() {
        // Four points at distance 1 around the origin, listed out of id order.
        let l = layer(vec![
            (Geometry::Point(point!(x: 1., y: 0.)), "a"),
            (Geometry::Point(point!(x: 0., y: 1.)), "b"),
            (Geometry::Point(point!(x: -1., y: 0.)), "c"),
            (Geometry::Point(point!(x: 0., y: -1.)), "d"),
        ]);
        let q = Geometry::Point(point!(x: 0., y: 0.));
        let ids: Vec<u32> = nearest(&l, &q, 2)
            .unwrap()
            .iter()
            .map(|h| h.feature)
            .collect();
        assert_eq!(ids, vec![0, 1]);
    }

    #[test]
    fn nearest_where_skips_what_it_does_not_keep() {
        // Points at x = 1, 2, ..., 40 on the axis; from the origin, the nearest with an index
        // divisible by 7 is index 0 (x = 1), and the nearest with index 35 is 36 m away.
        let l = layer(
            (1..=40)
                .map(|x| (Geometry::Point(point!(x: x as f64, y: 0.)), "p"))
                .collect(),
        );
        let q = Geometry::Point(point!(x: 0., y: 0.));
        let hit = nearest_where(&l, &q, &|i| i % 7 == 0).unwrap().unwrap();
        assert_eq!((hit.feature, hit.distance_m), (0, 1.0));
        let hit = nearest_where(&l, &q, &|i| i == 35).unwrap().unwrap();
        assert_eq!((hit.feature, hit.distance_m), (35, 36.0));
        assert_eq!(nearest_where(&l, &q, &|_| false).unwrap(), None);
    }

    #[test]
    fn agrees_with_brute_force_on_random_data() {
        let mut rng = Rng(11);
        let mut geoms = Vec::new();
        for i in 0..500 {
            let (x, y) = (rng.range(0.0, 5000.0), rng.range(0.0, 5000.0));
            let g = match i % 3 {
                0 => {
                    let s = rng.range(5.0, 150.0);
                    Geometry::Polygon(
                        polygon![(x: x, y: y), (x: x + s, y: y), (x: x + s / 2.0, y: y + s)],
                    )
                }
                1 => Geometry::LineString(line_string![
                    (x: x, y: y), (x: x + rng.range(-300.0, 300.0), y: y + rng.range(-300.0, 300.0))
                ]),
                // Points on a coarse grid so that some distances tie exactly.
                _ => Geometry::Point(
                    point!(x: (x / 100.0).round() * 100.0, y: (y / 100.0).round() * 100.0),
                ),
            };
            geoms.push((g, "k"));
        }
        let l = layer(geoms);
        for q in 0..80 {
            let (x, y) = (rng.range(-500.0, 5500.0), rng.range(-500.0, 5500.0));
            let query = if q % 2 == 0 {
                Geometry::Point(
                    point!(x: (x / 100.0).round() * 100.0, y: (y / 100.0).round() * 100.0),
                )
            } else {
                Geometry::LineString(line_string![(x: x, y: y), (x: x + 200.0, y: y + 50.0)])
            };
            let k = 1 + q % 9;
            let got = nearest(&l, &query, k).unwrap();
            let mut all: Vec<Hit> = l
                .features
                .iter()
                .enumerate()
                .map(|(i, f)| Hit {
                    feature: i as u32,
                    distance_m: Euclidean.distance(&query, &f.geometry),
                })
                .collect();
            sort_hits(&l, &mut all);
            all.truncate(k);
            assert_eq!(got, all, "query {q}");
        }
    }
}
