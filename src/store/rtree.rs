//! A static R-tree packed in flat arrays: the index of a layer's feature envelopes.
//!
//! A layer's index is built once, when the layer is, and then only read. rstar's `RTree`
//! keeps each leaf in a node enum as large as its largest variant: 56 bytes a leaf (a box of
//! four `f64`s, the feature's position, the parent variant's vector and box), 43 MB for a
//! million features, and as much again while it is built. This tree keeps a leaf in 20
//! bytes: a box of four `f32`s and the position, about 21 MB for a million features with
//! the nodes above them.
//!
//! Layout. The leaves are sorted along a Hilbert curve through their boxes' centres (features
//! near each other on the map are near each other in the array), then grouped [`NODE`] by
//! [`NODE`] into the nodes of the level above, and so on up to a single root. The boxes are
//! kept leaves first, then each level in turn, as four arrays of sides (minimum x, minimum y,
//! maximum x, maximum y); the children of the node of rank `r` in its level are the boxes of
//! rank `NODE * r` to `NODE * r + NODE - 1` of the level below, so a node needs no pointer, and
//! a node's children are tested together, without a branch, each giving a bit.
//!
//! Rounding. A box is stored in `f32`, its minimum rounded down and its maximum rounded up from
//! the `f64` envelope, so that it contains the envelope it stands for; a query box is rounded
//! outwards the same way. Every question asked of the tree therefore finds every feature whose
//! exact envelope answers it, and possibly a few whose envelope misses the query by less than
//! a rounding step (0.5 m at a coordinate of 5,000 km, the northings of UTM). Callers test the
//! geometries exactly, as they must anyway: an envelope that meets a box does not mean the
//! geometry does. Distances from a query to a box are lower bounds of the distances to the
//! geometry inside, as a best-first search needs (`analysis::nearest`).
//!
//! Cost: building O(n log n) (the sort, on rayon's threads); a box or point query visits
//! O(log n + k) nodes for k results, with no allocation; memory 20 bytes a leaf and 16 a node
//! (one node for every 15 leaves).

use geo::Rect;
use rayon::prelude::*;
use rstar::AABB;

/// Children of a node. 16 is what flatbush and most packed trees use: a node's boxes fill
/// four cache lines, and the tree of a million leaves is five levels deep.
pub const NODE: usize = 16;

// A node's children are tested into the bits of a `u32` ([`Sides::meeting`]).
const _: () = assert!(NODE <= 32);

/// The deepest stack a walk can need: at most `NODE - 1` siblings wait on each level, and a
/// tree of `u32::MAX` leaves has at most 9 levels above them.
const STACK: usize = 10 * NODE;

/// The most leaves a tree takes: with the nodes above them (one for every 15 leaves, and one
/// more at most on each level), fewer than 2^32 boxes, so that a box's position fits a `u32`.
pub const MAX_LEAVES: usize = (u32::MAX / 17 * 15) as usize;

/// A box in `f32`: minimum x, minimum y, maximum x, maximum y.
type Box32 = [f32; 4];

/// The packed R-tree (see the module documentation).
#[derive(Debug, Default)]
pub struct PackedRTree {
    /// Every box, the leaves (in Hilbert order) first, then each level of nodes up to the
    /// root, as four arrays of sides (a box is at the same position in each): a node's 16
    /// children are tested in one pass without a branch, which gives a bit for each.
    sides: Sides,
    /// The item of each leaf (a feature's position in its layer), in the leaves' order.
    items: Vec<u32>,
    /// Where each level starts among the boxes, the leaves' level first, and then the end of the
    /// last one (the root's): `levels.len()` is the number of levels plus one.
    levels: Vec<usize>,
    /// The box of every envelope given, exact (the root's box is rounded outwards).
    extent: Option<Rect<f64>>,
}

/// The sides of every box (see [`PackedRTree::sides`]).
#[derive(Debug, Default)]
struct Sides {
    min_x: Vec<f32>,
    min_y: Vec<f32>,
    max_x: Vec<f32>,
    max_y: Vec<f32>,
}

impl Sides {
    fn with_capacity(n: usize) -> Sides {
        Sides {
            min_x: Vec::with_capacity(n),
            min_y: Vec::with_capacity(n),
            max_x: Vec::with_capacity(n),
            max_y: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, b: Box32) {
        self.min_x.push(b[0]);
        self.min_y.push(b[1]);
        self.max_x.push(b[2]);
        self.max_y.push(b[3]);
    }

    fn get(&self, pos: usize) -> Box32 {
        [
            self.min_x[pos],
            self.min_y[pos],
            self.max_x[pos],
            self.max_y[pos],
        ]
    }

    fn len(&self) -> usize {
        self.min_x.len()
    }

    /// Which boxes of `range` (at most 32) meet `q`: bit `i` for the box at `range.start + i`.
    fn meeting(&self, range: std::ops::Range<usize>, q: &Box32) -> u32 {
        let test = |x0: f32, y0: f32, x1: f32, y1: f32| {
            // Without branches: the four comparisons cost less than the mispredicted jumps
            // of `&&`.
            (x0 <= q[2]) & (x1 >= q[0]) & (y0 <= q[3]) & (y1 >= q[1])
        };
        let (x0, y0) = (&self.min_x[range.clone()], &self.min_y[range.clone()]);
        let (x1, y1) = (&self.max_x[range.clone()], &self.max_y[range]);
        let mut mask = 0u32;
        if let (Ok(x0), Ok(y0), Ok(x1), Ok(y1)) = (
            <&[f32; NODE]>::try_from(x0),
            <&[f32; NODE]>::try_from(y0),
            <&[f32; NODE]>::try_from(x1),
            <&[f32; NODE]>::try_from(y1),
        ) {
            // A full node: a loop of known length, unrolled by the compiler.
            for i in 0..NODE {
                mask |= u32::from(test(x0[i], y0[i], x1[i], y1[i])) << i;
            }
        } else {
            for i in 0..x0.len() {
                mask |= u32::from(test(x0[i], y0[i], x1[i], y1[i])) << i;
            }
        }
        mask
    }
}

/// A node of the tree, for walks that order their own way ([`PackedRTree::root`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// Its position among the boxes (a tree has fewer than 2^32: see [`MAX_LEAVES`]).
    pos: u32,
    /// Its level: 1 for the nodes just above the leaves.
    level: u8,
}

/// A child of a [`Node`]: another node, or a leaf's item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Child {
    Node(Node),
    Leaf(u32),
}

impl PackedRTree {
    /// The tree of `entries`: each an item and its envelope, whose coordinates must be
    /// finite (a caller leaves out the features whose envelope is not), at most
    /// [`MAX_LEAVES`] of them.
    pub fn new(entries: Vec<(u32, Rect<f64>)>) -> PackedRTree {
        let n = entries.len();
        assert!(n <= MAX_LEAVES, "{n} leaves, more than a tree takes");
        if n == 0 {
            return PackedRTree::default();
        }
        // The Hilbert curve runs over a grid of 2^16 by 2^16 cells on the boxes' extent.
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (_, r) in &entries {
            x0 = x0.min(r.min().x);
            y0 = y0.min(r.min().y);
            x1 = x1.max(r.max().x);
            y1 = y1.max(r.max().y);
        }
        let cells = f64::from(u16::MAX);
        let sx = if x1 > x0 { cells / (x1 - x0) } else { 0.0 };
        let sy = if y1 > y0 { cells / (y1 - y0) } else { 0.0 };
        let extent = Some(Rect::new(
            geo::Coord { x: x0, y: y0 },
            geo::Coord { x: x1, y: y1 },
        ));
        let key = |(at, (_, r)): (usize, &(u32, Rect<f64>))| {
            let cx = ((r.min().x + r.max().x) / 2.0 - x0) * sx;
            let cy = ((r.min().y + r.max().y) / 2.0 - y0) * sy;
            (hilbert(cx as u32, cy as u32), at as u32)
        };
        // A small tree (an edited layer's, rebuilt at each edit) on the calling thread.
        let mut order: Vec<(u32, u32)>;
        if n >= super::PARALLEL_INDEXING_FROM {
            order = entries.par_iter().enumerate().map(key).collect();
            order.par_sort_unstable();
        } else {
            order = entries.iter().enumerate().map(key).collect();
            order.sort_unstable();
        }

        let mut levels = vec![0, n];
        let mut size = n;
        loop {
            size = size.div_ceil(NODE);
            levels.push(levels.last().copied().unwrap_or(0) + size);
            if size == 1 {
                break;
            }
        }
        let total = *levels.last().unwrap_or(&0);
        let mut sides = Sides::with_capacity(total);
        let mut items = Vec::with_capacity(n);
        for &(_, at) in &order {
            let (item, r) = &entries[at as usize];
            sides.push([
                down(r.min().x),
                down(r.min().y),
                up(r.max().x),
                up(r.max().y),
            ]);
            items.push(*item);
        }
        drop(order);
        drop(entries);
        for level in 1..levels.len() - 1 {
            let (start, end) = (levels[level - 1], levels[level]);
            for first in (start..end).step_by(NODE) {
                let mut b = sides.get(first);
                for c in first + 1..(first + NODE).min(end) {
                    let c = sides.get(c);
                    b[0] = b[0].min(c[0]);
                    b[1] = b[1].min(c[1]);
                    b[2] = b[2].max(c[2]);
                    b[3] = b[3].max(c[3]);
                }
                sides.push(b);
            }
        }
        debug_assert_eq!(sides.len(), total);
        levels.shrink_to_fit();
        PackedRTree {
            sides,
            items,
            levels,
            extent,
        }
    }

    /// The box of all the envelopes the tree was given, exact; `None` for a tree of none.
    pub fn extent(&self) -> Option<Rect<f64>> {
        self.extent
    }

    /// How many leaves the tree has.
    pub fn size(&self) -> usize {
        self.items.len()
    }

    /// The bytes the tree holds (its arrays' capacity).
    pub fn heap_bytes(&self) -> usize {
        4 * self.sides.min_x.capacity() * std::mem::size_of::<f32>()
            + self.items.capacity() * 4
            + self.levels.capacity() * std::mem::size_of::<usize>()
    }

    /// The leaves whose box meets the box `min`-`max` (edges included), as leaf slots
    /// ([`item`](Self::item), [`bounds`](Self::bounds)), in the tree's order.
    pub fn intersecting(&self, min: [f64; 2], max: [f64; 2]) -> Intersecting<'_> {
        let query = [down(min[0]), down(min[1]), up(max[0]), up(max[1])];
        let mut walk = Intersecting {
            tree: self,
            query,
            stack: [0; STACK],
            depth: [0; STACK],
            len: 0,
            leaves: (0, 0),
        };
        if let Some(root) = self.root() {
            if meets(&self.sides.get(root.pos as usize), &query) {
                walk.stack[0] = root.pos;
                walk.depth[0] = root.level;
                walk.len = 1;
            }
        }
        walk
    }

    /// The item of the leaf in `slot`.
    pub fn item(&self, slot: usize) -> u32 {
        self.items[slot]
    }

    /// The box of the leaf in `slot` (which contains the envelope it was given).
    pub fn bounds(&self, slot: usize) -> AABB<[f64; 2]> {
        to_aabb(&self.sides.get(slot))
    }

    /// Whether the leaf in `slot` may lie inside the box `min`-`max`: true for every leaf whose
    /// envelope does (and for those within a rounding step of doing so).
    pub fn may_lie_inside(&self, slot: usize, min: [f64; 2], max: [f64; 2]) -> bool {
        let b = self.sides.get(slot);
        b[0] >= down(min[0]) && b[1] >= down(min[1]) && b[2] <= up(max[0]) && b[3] <= up(max[1])
    }

    /// The root, when the tree has any leaf.
    pub fn root(&self) -> Option<Node> {
        (!self.items.is_empty()).then(|| Node {
            pos: (self.sides.len() - 1) as u32,
            level: (self.levels.len() - 2) as u8,
        })
    }

    /// The box of a node.
    pub fn node_bounds(&self, node: Node) -> AABB<[f64; 2]> {
        to_aabb(&self.sides.get(node.pos as usize))
    }

    /// The children of a node, each with its box (minimum x, minimum y, maximum x, maximum
    /// y).
    pub fn children(&self, node: Node) -> impl Iterator<Item = (Child, [f64; 4])> + '_ {
        let range = self.child_range(node);
        let level = node.level - 1;
        range.map(move |pos| {
            let child = if level == 0 {
                Child::Leaf(self.items[pos])
            } else {
                Child::Node(Node {
                    pos: pos as u32,
                    level,
                })
            };
            let b = self.sides.get(pos);
            let bounds = [
                f64::from(b[0]),
                f64::from(b[1]),
                f64::from(b[2]),
                f64::from(b[3]),
            ];
            (child, bounds)
        })
    }

    /// Where the children of `node` are in the boxes.
    fn child_range(&self, node: Node) -> std::ops::Range<usize> {
        let rank = node.pos as usize - self.levels[usize::from(node.level)];
        let below = usize::from(node.level) - 1;
        let first = self.levels[below] + rank * NODE;
        first..(first + NODE).min(self.levels[below + 1])
    }
}

/// The walk of [`PackedRTree::intersecting`]: a depth-first walk with its stack inline.
pub struct Intersecting<'a> {
    tree: &'a PackedRTree,
    query: Box32,
    /// Nodes (positions among the boxes) met and not yet opened, and their levels.
    stack: [u32; STACK],
    depth: [u8; STACK],
    len: usize,
    /// The leaves of the node last opened that meet the query and are not yet given: the
    /// position of the first of the node's leaves, and a bit for each.
    leaves: (usize, u32),
}

impl Iterator for Intersecting<'_> {
    /// A leaf slot.
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        loop {
            let (first, mask) = self.leaves;
            if mask != 0 {
                self.leaves.1 = mask & (mask - 1);
                return Some(first + mask.trailing_zeros() as usize);
            }
            if self.len == 0 {
                return None;
            }
            self.len -= 1;
            let node = Node {
                pos: self.stack[self.len],
                level: self.depth[self.len],
            };
            let children = self.tree.child_range(node);
            let first = children.start;
            let mut mask = self.tree.sides.meeting(children, &self.query);
            if node.level == 1 {
                self.leaves = (first, mask);
            } else {
                // Pushed last first, so that they are opened in order.
                while mask != 0 {
                    let at = 31 - mask.leading_zeros() as usize;
                    mask &= !(1 << at);
                    self.stack[self.len] = (first + at) as u32;
                    self.depth[self.len] = node.level - 1;
                    self.len += 1;
                }
            }
        }
    }
}

/// Whether two boxes meet (edges included).
#[inline]
fn meets(b: &Box32, q: &Box32) -> bool {
    b[0] <= q[2] && b[2] >= q[0] && b[1] <= q[3] && b[3] >= q[1]
}

fn to_aabb(b: &Box32) -> AABB<[f64; 2]> {
    AABB::from_corners(
        [f64::from(b[0]), f64::from(b[1])],
        [f64::from(b[2]), f64::from(b[3])],
    )
}

/// The largest `f32` not above `x`.
fn down(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) > x {
        step_down(f)
    } else {
        f
    }
}

/// The smallest `f32` not below `x`.
fn up(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) < x {
        step_up(f)
    } else {
        f
    }
}

/// The next `f32` below `f` (not NaN, not -inf): `f32::next_down`, which is newer than the
/// crate's minimum Rust version.
fn step_down(f: f32) -> f32 {
    if f == 0.0 {
        -f32::from_bits(1)
    } else if f > 0.0 {
        f32::from_bits(f.to_bits() - 1)
    } else {
        f32::from_bits(f.to_bits() + 1)
    }
}

/// The next `f32` above `f` (not NaN, not +inf).
fn step_up(f: f32) -> f32 {
    -step_down(-f)
}

/// The rank of cell (`x`, `y`) along the Hilbert curve through a grid of 2^16 by 2^16 cells:
/// cells near each other on the curve are near each other on the grid.
fn hilbert(mut x: u32, mut y: u32) -> u32 {
    let side = 1u32 << 16;
    x = x.min(side - 1);
    y = y.min(side - 1);
    let mut rank = 0u32;
    let mut s = side / 2;
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        rank += s * s * ((3 * rx) ^ ry);
        // Turn the quadrant so that the curve's pieces join up.
        if ry == 0 {
            if rx == 1 {
                x = side - 1 - x;
                y = side - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;
    use rstar::Envelope;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect<f64> {
        Rect::new(coord! { x: x0, y: y0 }, coord! { x: x1, y: y1 })
    }

    /// A small deterministic generator (xorshift), for reproducible random boxes.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Boxes of up to 2 km in a 100 km square at UTM-like coordinates.
    fn random_boxes(n: usize, seed: u64) -> Vec<(u32, Rect<f64>)> {
        let mut rng = Rng(seed);
        (0..n as u32)
            .map(|i| {
                let x = 500_000.0 + rng.next() * 100_000.0;
                let y = 5_000_000.0 + rng.next() * 100_000.0;
                (
                    i,
                    rect(x, y, x + rng.next() * 2_000.0, y + rng.next() * 2_000.0),
                )
            })
            .collect()
    }

    fn found(tree: &PackedRTree, min: [f64; 2], max: [f64; 2]) -> Vec<u32> {
        let mut v: Vec<u32> = tree.intersecting(min, max).map(|s| tree.item(s)).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn the_curve_visits_each_cell_once_and_steps_to_a_neighbour() {
        // On a 2^16 grid, look at the 4 x 4 corner: the first 16 ranks are its cells, in the
        // order of the order-2 Hilbert curve, each a neighbour of the one before.
        let mut by_rank = [(0u32, 0u32); 16];
        for x in 0..4 {
            for y in 0..4 {
                let r = hilbert(x, y);
                assert!(r < 16, "({x}, {y}) has rank {r}");
                by_rank[r as usize] = (x, y);
            }
        }
        for w in by_rank.windows(2) {
            let (a, b) = (w[0], w[1]);
            assert_eq!(a.0.abs_diff(b.0) + a.1.abs_diff(b.1), 1, "{a:?} -> {b:?}");
        }
        assert_eq!(by_rank[0], (0, 0));
        // The corners of the whole grid: the curve starts at one and ends at the other
        // bottom corner.
        assert_eq!(hilbert(0, 0), 0);
        assert_eq!(hilbert(u32::from(u16::MAX), 0), u32::MAX);
    }

    #[test]
    fn the_largest_tree_has_fewer_than_2_to_the_32_boxes() {
        // The level sizes of a tree of MAX_LEAVES leaves, as `new` computes them.
        let (mut size, mut total) = (MAX_LEAVES, MAX_LEAVES);
        while size > 1 {
            size = size.div_ceil(NODE);
            total += size;
        }
        assert!(total <= u32::MAX as usize, "{total}");
    }

    #[test]
    fn rounding_goes_outwards() {
        for x in [5_000_000.123_456_789, -1.1, 0.1, 1e-30, 123_456.5] {
            assert!(f64::from(down(x)) <= x, "{x}");
            assert!(f64::from(up(x)) >= x, "{x}");
            // And by no more than one step.
            assert!(f64::from(step_up(down(x))) > x || f64::from(down(x)) == x);
            assert!(f64::from(step_down(up(x))) < x || f64::from(up(x)) == x);
        }
        // A value an f32 holds exactly is kept as it is.
        assert_eq!(down(1024.5), 1024.5);
        assert_eq!(up(1024.5), 1024.5);
        // Steps by hand: 1 + 2^-23 is the f32 after 1, 1 - 2^-24 the one before; around 0,
        // the smallest subnormal, 2^-149; past the largest f32, the largest f32.
        assert_eq!(step_up(1.0), 1.0 + f32::EPSILON);
        assert_eq!(step_down(1.0), 1.0 - f32::EPSILON / 2.0);
        assert_eq!(step_up(-1.0), -1.0 + f32::EPSILON / 2.0);
        assert_eq!(step_up(0.0), f32::from_bits(1));
        assert_eq!(f64::from(step_down(0.0)), -(2f64.powi(-149)));
        assert_eq!(down(1e300), f32::MAX);
        assert_eq!(up(-1e300), f32::MIN);
        assert_eq!(down(-1e300), f32::NEG_INFINITY);
    }

    #[test]
    fn boxes_by_hand() {
        // Three boxes; the tree of three leaves is a root over them.
        let tree = PackedRTree::new(vec![
            (10, rect(0.0, 0.0, 1.0, 1.0)),
            (20, rect(2.0, 2.0, 3.0, 3.0)),
            (30, rect(0.5, 0.5, 2.5, 2.5)),
        ]);
        assert_eq!(tree.size(), 3);
        assert_eq!(tree.extent(), Some(rect(0.0, 0.0, 3.0, 3.0)));
        assert_eq!(found(&tree, [0.9, 0.9], [0.9, 0.9]), vec![10, 30]);
        assert_eq!(found(&tree, [1.5, 1.5], [1.6, 1.6]), vec![30]);
        // Edges included: the box of 10 touches x = 1.
        assert_eq!(found(&tree, [1.0, 0.0], [1.2, 0.2]), vec![10]);
        assert_eq!(found(&tree, [2.9, 2.9], [4.0, 4.0]), vec![20]);
        assert_eq!(found(&tree, [-1.0, -1.0], [9.0, 9.0]), vec![10, 20, 30]);
        assert!(found(&tree, [3.5, 0.0], [4.0, 1.0]).is_empty());
        let root = tree.root().unwrap();
        let b = tree.node_bounds(root);
        assert_eq!((b.lower(), b.upper()), ([0.0, 0.0], [3.0, 3.0]));
        let mut leaves: Vec<u32> = tree
            .children(root)
            .map(|(c, _)| match c {
                Child::Leaf(i) => i,
                Child::Node(_) => panic!("a tree of three leaves has one level of nodes"),
            })
            .collect();
        leaves.sort_unstable();
        assert_eq!(leaves, vec![10, 20, 30]);
        assert!(PackedRTree::new(Vec::new()).root().is_none());
        assert!(PackedRTree::new(Vec::new()).extent().is_none());
        assert_eq!(
            PackedRTree::new(Vec::new())
                .intersecting([0.0; 2], [1.0; 2])
                .count(),
            0
        );
    }

    #[test]
    fn queries_find_what_a_scan_of_the_exact_boxes_finds() {
        // Sizes around the node size and its powers, where the levels' last nodes are partial.
        for n in [1, 2, 15, 16, 17, 255, 256, 257, 4_000] {
            let entries = random_boxes(n, 7 + n as u64);
            let tree = PackedRTree::new(entries.clone());
            assert_eq!(tree.size(), n);
            let mut rng = Rng(99 + n as u64);
            for _ in 0..200 {
                let x = 495_000.0 + rng.next() * 110_000.0;
                let y = 4_995_000.0 + rng.next() * 110_000.0;
                let (w, h) = (rng.next() * 5_000.0, rng.next() * 5_000.0);
                let exact: Vec<u32> = entries
                    .iter()
                    .filter(|(_, r)| {
                        r.min().x <= x + w && r.max().x >= x && r.min().y <= y + h && r.max().y >= y
                    })
                    .map(|(i, _)| *i)
                    .collect();
                let got = found(&tree, [x, y], [x + w, y + h]);
                // Every exact answer is found; anything more is within a rounding step
                // (0.5 m at these coordinates) of the query.
                for i in &exact {
                    assert!(got.binary_search(i).is_ok(), "n {n}: {i} missed");
                }
                for i in got.iter().filter(|i| exact.binary_search(i).is_err()) {
                    let r = entries[*i as usize].1;
                    let gap_x = (r.min().x - (x + w)).max(x - r.max().x);
                    let gap_y = (r.min().y - (y + h)).max(y - r.max().y);
                    assert!(
                        gap_x.max(gap_y) <= 1.0,
                        "n {n}: {i} is {gap_x}, {gap_y} away"
                    );
                }
            }
        }
    }

    #[test]
    fn the_node_walk_reaches_every_leaf_once_inside_its_parents_box() {
        let entries = random_boxes(5_000, 3);
        let tree = PackedRTree::new(entries.clone());
        let mut seen = vec![0u32; entries.len()];
        let mut pending = vec![tree.root().unwrap()];
        while let Some(node) = pending.pop() {
            let outer = tree.node_bounds(node);
            for (child, b) in tree.children(node) {
                let b = AABB::from_corners([b[0], b[1]], [b[2], b[3]]);
                assert!(outer.contains_envelope(&b));
                match child {
                    Child::Node(n) => pending.push(n),
                    Child::Leaf(i) => {
                        seen[i as usize] += 1;
                        let r = entries[i as usize].1;
                        assert!(b.contains_point(&[r.min().x, r.min().y]));
                        assert!(b.contains_point(&[r.max().x, r.max().y]));
                    }
                }
            }
        }
        assert!(seen.iter().all(|&s| s == 1));
        // 5,000 leaves: 313 nodes above them, then 20, 2 and the root.
        assert_eq!(tree.levels, vec![0, 5_000, 5_313, 5_333, 5_335, 5_336]);
        assert_eq!(tree.heap_bytes(), 5_336 * 16 + 5_000 * 4 + 6 * 8);
        // The masks of a full node and of a partial one (the last of the leaves' level, 8
        // leaves), against a scan of their boxes.
        let q = [
            down(520_000.0),
            down(5_020_000.0),
            up(560_000.0),
            up(5_060_000.0),
        ];
        for range in [0..16, 4_992..5_000] {
            let mask = tree.sides.meeting(range.clone(), &q);
            for (bit, pos) in range.enumerate() {
                assert_eq!(
                    mask >> bit & 1 == 1,
                    meets(&tree.sides.get(pos), &q),
                    "{pos}"
                );
            }
        }
    }
}
