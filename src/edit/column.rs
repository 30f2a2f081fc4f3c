//! A column of integers, one a change of a log, kept in blocks of [`BLOCK`] values packed to
//! as few bytes a value as their spread needs: the change log's index ([`super::log`]) keeps its
//! sequence numbers, times and places in three of them.
//!
//! # Why
//!
//! The index is in memory and grows with every edit. As plain 32-bit vectors it cost 12 bytes a
//! change, and each vector grew by doubling: a ten-minute soak of 577,000 edits saw the demo
//! server's resident memory step up by 6 MB at once when the three vectors passed 524,288
//! values. The values of a log are regular: sequence numbers follow each other, times of
//! changes made together are close, and a layer has few places. Packed by block they take
//! about 2 bytes a change, and the column grows by one block at a time.
//!
//! # How
//!
//! The values after the last full block are kept as they are (`tail`, at most [`BLOCK`]). A
//! full block is packed: value `j` of the block is `base + slope * j + offset[j]`, with `slope`
//! 0 or 1 (whichever gives the smaller offsets: 1 makes a run of consecutive sequence numbers
//! all offset 0), `base` the least of `value - slope * j`, and every offset stored in `width`
//! bytes, the fewest of 0, 1, 2, 4 or 8 that hold the largest offset; a block that holds a none
//! (`None`: no value) keeps the largest offset of its width for it. A run of consecutive
//! numbers takes no bytes at all beyond the block's header (32 bytes and the allocator's share,
//! about 0.2 a value); times of changes made within four minutes of each other one byte a
//! value.
//!
//! # Cost
//!
//! For n values: [`Column::get`] is O(1) (a division, and `width` bytes read);
//! [`Column::push`] O(1) amortised (a block packed every [`BLOCK`] values: two passes over
//! it); [`Column::insert`] before the tail unpacks and packs every block from the one it goes
//! into to the last, O(n - i): the index inserts there only a change committed by another
//! server before one already shown, near the end. Memory: `width` bytes a packed value, plus
//! the header of its block, and the tail's room for [`BLOCK`] values of 16 bytes (4 kB).

/// Values in a packed block.
pub(crate) const BLOCK: usize = 256;

/// A packed block of [`BLOCK`] values.
#[derive(Debug)]
struct Block {
    /// Value `j` is `base + slope * j + offset[j]`.
    base: i64,
    slope: bool,
    /// Whether the largest offset of the width stands for `None`.
    none: bool,
    /// Bytes an offset: 0, 1, 2, 4 or 8.
    width: u8,
    /// The offsets, little-endian, `width` bytes each; the largest offset of the width stands
    /// for `None` when the block has one.
    offsets: Box<[u8]>,
}

/// The largest offset `width` bytes hold.
fn largest(width: u8) -> u128 {
    if width == 0 {
        0
    } else {
        (1u128 << (8 * u32::from(width))) - 1
    }
}

impl Block {
    /// `values` (exactly [`BLOCK`]) packed.
    fn pack(values: &[Option<i64>]) -> Block {
        debug_assert_eq!(values.len(), BLOCK);
        let has_none = values.iter().any(Option::is_none);
        // For each slope: its base and the largest offset above it.
        let spread = |slope: i128| {
            let shifted = values
                .iter()
                .enumerate()
                .filter_map(|(j, v)| v.map(|v| i128::from(v) - slope * j as i128));
            let (lo, hi) =
                shifted.fold((i128::MAX, i128::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
            if lo > hi {
                (0, 0)
            } else {
                (lo, (hi - lo) as u128)
            }
        };
        let (flat, sloped) = (spread(0), spread(1));
        // The flat base is the least value, an i64; the sloped one may not be.
        let fits = i64::try_from(sloped.0).is_ok();
        let (slope, (base, spread)) = if fits && sloped.1 < flat.1 {
            (true, sloped)
        } else {
            (false, flat)
        };
        let needed = spread + u128::from(has_none);
        debug_assert!(needed <= largest(8), "i64::MIN in a column");
        let width = [0u8, 1, 2, 4, 8]
            .into_iter()
            .find(|&w| needed <= largest(w))
            .unwrap_or(8);
        let none = largest(width);
        let mut offsets = Vec::with_capacity(BLOCK * usize::from(width));
        for (j, v) in values.iter().enumerate() {
            let offset = match v {
                Some(v) => (i128::from(*v) - base - i128::from(slope) * j as i128) as u128,
                None => none,
            };
            offsets.extend_from_slice(&offset.to_le_bytes()[..usize::from(width)]);
        }
        Block {
            base: base as i64,
            slope,
            none: has_none,
            width,
            offsets: offsets.into_boxed_slice(),
        }
    }

    fn get(&self, j: usize) -> Option<i64> {
        let w = usize::from(self.width);
        let mut bytes = [0u8; 16];
        bytes[..w].copy_from_slice(&self.offsets[j * w..(j + 1) * w]);
        let offset = u128::from_le_bytes(bytes);
        if self.none && offset == largest(self.width) {
            return None;
        }
        let slope = if self.slope { j as i128 } else { 0 };
        // The value was an i64 when packed.
        Some((i128::from(self.base) + slope + offset as i128) as i64)
    }

    fn unpack(&self) -> Vec<Option<i64>> {
        (0..BLOCK).map(|j| self.get(j)).collect()
    }

    /// Heap bytes.
    #[cfg(test)]
    fn size(&self) -> usize {
        std::mem::size_of::<Block>() + self.offsets.len()
    }
}

/// A column of integers or none, packed by block (see the module documentation). `i64::MIN`
/// is not a value: a block holding it and `i64::MAX` and a none would need more than 8 bytes
/// an offset.
#[derive(Debug, Default)]
pub(crate) struct Column {
    blocks: Vec<Block>,
    /// The values after the last block, fewer than [`BLOCK`].
    tail: Vec<Option<i64>>,
}

impl Column {
    pub(crate) fn len(&self) -> usize {
        self.blocks.len() * BLOCK + self.tail.len()
    }

    /// The value at position `i` (`None` for none); panics past the end, as a slice does.
    pub(crate) fn get(&self, i: usize) -> Option<i64> {
        match self.blocks.get(i / BLOCK) {
            Some(block) => block.get(i % BLOCK),
            None => self.tail[i - self.blocks.len() * BLOCK],
        }
    }

    /// The last value, `None` when the column is empty or its last value is none.
    pub(crate) fn last(&self) -> Option<i64> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// Puts `value` at the end.
    pub(crate) fn push(&mut self, value: Option<i64>) {
        self.tail.push(value);
        if self.tail.len() == BLOCK {
            self.blocks.push(Block::pack(&self.tail));
            self.tail.clear();
        }
    }

    /// Puts `value` at position `i` (at most the length), those from `i` on one further.
    pub(crate) fn insert(&mut self, i: usize, value: Option<i64>) {
        assert!(i <= self.len(), "insertion at {i} past {}", self.len());
        let sealed = self.blocks.len() * BLOCK;
        if i >= sealed {
            self.tail.insert(i - sealed, value);
        } else {
            // Into its block, and each block's last value to the front of the next.
            let mut carry = value;
            let mut at = i % BLOCK;
            for block in &mut self.blocks[i / BLOCK..] {
                let mut values = block.unpack();
                values.insert(at, carry);
                carry = values.pop().flatten();
                *block = Block::pack(&values);
                at = 0;
            }
            self.tail.insert(0, carry);
        }
        if self.tail.len() == BLOCK {
            self.blocks.push(Block::pack(&self.tail));
            self.tail.clear();
        }
    }

    /// The first `n` values, in order.
    pub(crate) fn iter(&self, n: usize) -> impl Iterator<Item = Option<i64>> + '_ {
        self.blocks
            .iter()
            .flat_map(|b| (0..BLOCK).map(move |j| b.get(j)))
            .chain(self.tail.iter().copied())
            .take(n)
    }

    /// The number of values before the first for which `before` is false (they are ordered so
    /// that it is true of a first run of them, and false of the rest).
    pub(crate) fn partition_point(&self, before: impl Fn(Option<i64>) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if before(self.get(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Heap bytes in use (not counting the spare capacity of the vector of blocks).
    #[cfg(test)]
    fn size(&self) -> usize {
        self.blocks.iter().map(Block::size).sum::<usize>()
            + self.tail.capacity() * std::mem::size_of::<Option<i64>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::rng::Rng;

    fn all(c: &Column) -> Vec<Option<i64>> {
        (0..c.len()).map(|i| c.get(i)).collect()
    }

    /// Blocks packed by hand: their width and slope are the fewest bytes the spread needs.
    #[test]
    fn a_block_takes_the_bytes_its_spread_needs() {
        let block = |values: &[Option<i64>]| {
            let b = Block::pack(values);
            assert_eq!(b.unpack(), values);
            (b.width, b.slope)
        };
        // Consecutive numbers from 1,000,001: base 1,000,001, slope 1, every offset 0.
        let run: Vec<Option<i64>> = (0..BLOCK as i64).map(|j| Some(1_000_001 + j)).collect();
        assert_eq!(block(&run), (0, true));
        // Every other number: offsets 0 to 255 with slope 1 (v - j = base + j), 0 to 510
        // flat: one byte, sloped.
        let odd: Vec<Option<i64>> = (0..BLOCK as i64).map(|j| Some(1 + 2 * j)).collect();
        assert_eq!(block(&odd), (1, true));
        // Times within 255 seconds: flat, one byte; with a none among them, 255 is the none's
        // offset, so a spread of 255 takes two bytes.
        let mut times: Vec<Option<i64>> = (0..BLOCK as i64)
            .map(|j| Some(1_764_806_400 + j % 7))
            .collect();
        times[100] = Some(1_764_806_400 + 255);
        assert_eq!(block(&times), (1, false));
        times[3] = None;
        assert_eq!(block(&times), (2, false));
        times[100] = Some(1_764_806_400 + 254);
        assert_eq!(block(&times), (1, false));
        // All none: one byte each.
        assert_eq!(block(&vec![None; BLOCK]), (1, false));
        // One place for every change: no byte.
        assert_eq!(block(&vec![Some(7); BLOCK]), (0, false));
        // The extremes and a none: 2^64 - 2 apart, plus the none, eight bytes.
        let mut wide = vec![Some(0); BLOCK];
        wide[0] = Some(i64::MIN + 1);
        wide[1] = Some(i64::MAX);
        wide[2] = None;
        assert_eq!(block(&wide).0, 8);
        // 65,536 apart: four bytes.
        let mut four = vec![Some(-5); BLOCK];
        four[9] = Some(-5 + 65_536);
        assert_eq!(block(&four).0, 4);
    }

    /// Pushes and insertions anywhere, of runs, clusters, nones and extremes, give the values a
    /// vector given the same ones has, in its order.
    #[test]
    fn a_column_holds_what_a_vector_holds() {
        let mut rng = Rng::geography();
        let mut c = Column::default();
        let mut v: Vec<Option<i64>> = Vec::new();
        let mut next = 1_000i64;
        for step in 0..6_000 {
            let value = match rng.int(0, 9) {
                0..=4 => {
                    next += 1;
                    Some(next)
                }
                5 => None,
                6 => Some(rng.int(-300, 300)),
                7 => Some(*rng.pick(&[i64::MIN + 1, i64::MAX, 0, -1])),
                _ => Some(rng.next_u64() as i64 / 2),
            };
            if rng.int(0, 19) == 0 {
                let i = rng.int(0, v.len() as i64) as usize;
                c.insert(i, value);
                v.insert(i, value);
            } else {
                c.push(value);
                v.push(value);
            }
            assert_eq!(c.len(), v.len());
            assert_eq!(c.last(), v.last().copied().flatten());
            if step % 500 == 0 || step > 5_990 {
                assert_eq!(all(&c), v, "step {step}");
                for n in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, v.len() / 2, v.len()] {
                    let n = n.min(v.len());
                    assert_eq!(c.iter(n).collect::<Vec<_>>(), v[..n], "{n}");
                }
            }
        }
        assert!(c.blocks.len() > 20);
    }

    /// A sorted column (sequence numbers with gaps and nones at the front) is searched as a
    /// sorted vector is.
    #[test]
    fn a_sorted_column_is_searched_as_a_vector_is() {
        let mut c = Column::default();
        let mut v = Vec::new();
        let mut s = 0;
        for i in 0..2_000i64 {
            s += 1 + i % 3;
            c.push(Some(s));
            v.push(Some(s));
        }
        for probe in [0, 1, 2, 3, 500, 1_999, 3_998, 3_999, 4_000, 10_000] {
            let before = |x: Option<i64>| x.is_some_and(|x| x < probe);
            assert_eq!(
                c.partition_point(before),
                v.partition_point(|&x| before(x)),
                "{probe}"
            );
        }
    }

    /// What the index's columns cost for a soak's edits: 100,000 consecutive sequence numbers,
    /// times 900 a second, a dozen places.
    #[test]
    fn a_log_of_regular_changes_costs_under_two_bytes_a_change() {
        let n = 100_000usize;
        let (mut seqs, mut starts, mut places) = <(Column, Column, Column)>::default();
        let mut rng = Rng::rows();
        for i in 0..n as i64 {
            seqs.push(Some(40_000 + i));
            starts.push(Some(1_764_806_400 + i / 900));
            places.push(Some(rng.int(0, 11)));
        }
        // Blocks: 390 full ones (100,000 / 256), each 32 bytes of header; sequence numbers no
        // bytes, places one a value, times one a value in a block that spans two seconds and
        // none in one within a second; the tail's room for 256 values of 16 bytes each.
        let blocks = n / BLOCK;
        let header = std::mem::size_of::<Block>();
        let tail = BLOCK * 16;
        let two_seconds = (0..blocks)
            .filter(|k| (k * BLOCK) / 900 != (k * BLOCK + BLOCK - 1) / 900)
            .count();
        assert_eq!(seqs.size(), blocks * header + tail);
        assert_eq!(starts.size(), blocks * header + two_seconds * BLOCK + tail);
        assert_eq!(places.size(), blocks * (header + BLOCK) + tail);
        let per_change = (seqs.size() + starts.size() + places.size()) as f64 / n as f64;
        assert!(per_change < 2.0, "{per_change}");
        assert_eq!(seqs.get(77_777), Some(40_000 + 77_777));
        assert_eq!(starts.get(77_777), Some(1_764_806_400 + 77_777 / 900));
    }
}
